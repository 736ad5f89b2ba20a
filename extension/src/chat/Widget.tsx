import { Fragment, type ReactNode } from "react";
import type { WidgetAction, WidgetNode } from "./protocol.ts";

type Props = { node: WidgetNode; onAction(action: WidgetAction): void; disabled: boolean };

const kids = (node: WidgetNode): WidgetNode[] =>
  node.children ? (Array.isArray(node.children) ? node.children : [node.children]) : [];
const text = (v: unknown) => (typeof v === "string" ? v : "");
const asAction = (v: unknown): WidgetAction | null =>
  v && typeof v === "object" && typeof (v as WidgetAction).type === "string" ? (v as WidgetAction) : null;

// Icon-only buttons carry no label on the wire; name them by what they do, for screen readers and tooltips.
const ACTION_NAMES: Record<string, string> = {
  "task.delete": "Delete",
  "task.restore": "Undo delete",
  "task.toggle": "Done",
};

/** The row's title: what its checkbox and buttons are about. */
const rowTitle = (row: WidgetNode) => text(kids(row).find((c) => c.type === "Text")?.value);

/** A ChatKit widget drawn with the panel's own elements (ListView task lists, confirmation cards, text). */
export function Widget({ node, onAction, disabled }: Props) {
  return <>{render(node, { onAction, disabled, row: "" })}</>;
}

type Ctx = { onAction(action: WidgetAction): void; disabled: boolean; row: string };

function children(node: WidgetNode, ctx: Ctx): ReactNode {
  return kids(node).map((child, i) => (
    <Fragment key={child.key ?? child.id ?? i}>{render(child, ctx)}</Fragment>
  ));
}

function status(node: WidgetNode): string {
  const s = node.status as { text?: unknown } | undefined;
  return text(s?.text);
}

function render(node: WidgetNode, ctx: Ctx): ReactNode {
  switch (node.type) {
    case "ListView": {
      const label = status(node);
      return (
        <section className="widget widget-list" aria-label={label || "Tasks"}>
          {label && <p className="widget-status">{label}</p>}
          <ul>{children(node, ctx)}</ul>
        </section>
      );
    }
    case "ListViewItem":
      return (
        <li className="widget-row" data-task-id={node.key}>
          {children(node, { ...ctx, row: rowTitle(node) })}
        </li>
      );
    case "Checkbox": {
      const action = asAction(node.onChangeAction);
      const checked = Boolean(node.defaultChecked);
      return (
        <input
          // A new server state re-creates the box, so it always shows what the server says.
          key={String(checked)}
          type="checkbox"
          className="widget-check"
          defaultChecked={checked}
          disabled={ctx.disabled || Boolean(node.disabled) || !action}
          aria-label={ctx.row ? `Done: ${ctx.row}` : "Done"}
          onChange={() => action && ctx.onAction(action)}
        />
      );
    }
    case "Button": {
      const action = asAction(node.onClickAction);
      const label = text(node.label);
      const name = label || (action && ACTION_NAMES[action.type]) || "Action";
      return (
        <button
          type="button"
          className="widget-button"
          disabled={ctx.disabled || !action}
          aria-label={label ? undefined : ctx.row ? `${name}: ${ctx.row}` : name}
          title={label ? undefined : name}
          onClick={() => action && ctx.onAction(action)}
        >
          {label || (action?.type === "task.delete" ? "✕" : "•")}
        </button>
      );
    }
    case "Text":
    case "Title":
    case "Caption":
    case "Markdown": {
      const classes = [
        "widget-text",
        node.lineThrough ? "done" : "",
        node.color === "secondary" ? "muted" : "",
      ];
      const value = text(node.value);
      return node.weight === "semibold" || node.type === "Title" ? (
        <strong className={classes.join(" ")}>{value}</strong>
      ) : (
        <span className={classes.join(" ")}>{value}</span>
      );
    }
    case "Badge":
      return (
        <span className={`widget-badge ${node.color === "danger" ? "danger" : ""}`}>{text(node.label)}</span>
      );
    case "Card": {
      const label = status(node);
      const buttons = (["confirm", "cancel"] as const).flatMap((k) => {
        const b = node[k] as { label?: unknown; action?: unknown } | undefined;
        const action = asAction(b?.action);
        return b && action ? [{ k, label: text(b.label) || k, action }] : [];
      });
      return (
        <section className="widget widget-card" aria-label={label || "Card"}>
          {label && <p className="widget-status">{label}</p>}
          <div className="widget-body">{children(node, ctx)}</div>
          {buttons.length > 0 && (
            <div className="widget-actions">
              {buttons.map((b) => (
                <button
                  key={b.k}
                  type="button"
                  className={b.k === "confirm" ? "primary" : undefined}
                  disabled={ctx.disabled}
                  onClick={() => ctx.onAction(b.action)}
                >
                  {b.label}
                </button>
              ))}
            </div>
          )}
        </section>
      );
    }
    default:
      return <div className={`widget-box widget-${node.type.toLowerCase()}`}>{children(node, ctx)}</div>;
  }
}
