// The offline model's understanding of a message: plain commands in varied phrasings, nothing more.

export type ListFilter = {
  status?: "pending" | "completed" | "all";
  due?: "overdue" | "today" | "upcoming";
  /** Narrower than the tool's filters; applied to the listed tasks' local dates. */
  window?: "tomorrow" | "week";
  label: string;
};

export type Command =
  | { kind: "greeting" }
  | { kind: "thanks" }
  | { kind: "add"; titles: string[]; priority?: "low" | "medium" | "high" }
  | { kind: "list"; filter: ListFilter }
  | { kind: "complete"; target: string }
  | { kind: "reopen"; target: string }
  | { kind: "reschedule"; target: string; due: string }
  | { kind: "rename"; target: string; title: string }
  | { kind: "priority"; target: string; priority: "low" | "medium" | "high" }
  | { kind: "delete"; target: string }
  | { kind: "delete_all" }
  | { kind: "save_page"; due?: string }
  | { kind: "selection" }
  | { kind: "yes" }
  | { kind: "no" }
  | { kind: "unknown" };

const clean = (s: string) =>
  s
    .trim()
    .replace(/^["'“‘]|["'”’]$/g, "")
    .replace(/[.!?]+$/, "")
    .trim();

/** Strips "the task", "my", quotes and trailing "task" from a reference to a task. */
const target = (s: string) =>
  clean(
    s
      .replace(/^(the|my)\s+/i, "")
      .replace(/^task\s+/i, "")
      .replace(/\s+task$/i, ""),
  );

function priorityOf(text: string): { rest: string; priority?: "low" | "medium" | "high" } {
  const m = text.match(
    /[,\s]*(?:with\s+)?(?:(high|low|medium)\s+priority|priority\s+(high|low|medium)|!(high|low)|(urgent(?:ly)?|asap))\b/i,
  );
  if (!m) return { rest: text };
  const word = (m[1] ?? m[2] ?? m[3] ?? (m[4] ? "high" : "medium"))!.toLowerCase() as
    | "low"
    | "medium"
    | "high";
  return {
    rest: `${text.slice(0, m.index)} ${text.slice(m.index! + m[0].length)}`.replace(/\s+/g, " ").trim(),
    priority: word,
  };
}

/** The titles of an add: quoted ones each make a task (`add "eggs" and "bread"`); else the whole text is one. */
function titlesOf(text: string): string[] {
  const quoted = [...text.matchAll(/["“]([^"”]+)["”]/g)].map((m) => m[1]!.trim()).filter(Boolean);
  if (quoted.length) {
    // Words after the last quote (a shared due such as "tomorrow") apply to each.
    const tail = text
      .slice(text.lastIndexOf(quoted.at(-1)!) + quoted.at(-1)!.length)
      .replace(/^["”]/, "")
      .trim();
    const shared = tail.replace(/^(and|,)\s*/i, "").trim();
    return quoted.map((q) => (shared && !/^and\b/i.test(tail) ? `${q} ${shared}` : q));
  }
  return [clean(text)].filter(Boolean);
}

function listFilter(t: string): ListFilter | undefined {
  if (/\b(overdue|late|past due|missed)\b/.test(t)) return { due: "overdue", label: "overdue" };
  if (/\btomorrow\b/.test(t)) return { due: "upcoming", window: "tomorrow", label: "due tomorrow" };
  if (/\b(this week|the week|next (few|7) days)\b/.test(t)) return { window: "week", label: "due this week" };
  if (/\btoday\b|\btonight\b/.test(t)) return { due: "today", label: "due today" };
  if (/\b(upcoming|coming up|later|future|next)\b/.test(t)) return { due: "upcoming", label: "upcoming" };
  if (/\b(completed|finished|done)\b/.test(t)) return { status: "completed", label: "completed" };
  if (/\b(all|everything|every task)\b/.test(t)) return { status: "all", label: "all" };
  return undefined;
}

/** Reads one message. Only the user's own words get here: the page is never parsed as a command. */
export function parseCommand(message: string): Command {
  const text = message.trim().replace(/\s+/g, " ");
  const t = text.toLowerCase();

  if (/^(y|yes|yeah|yep|sure|ok|okay|go ahead|do it|please do)\b[.!]*$/.test(t)) return { kind: "yes" };
  if (/^(n|no|nope|cancel|never ?mind|don'?t)\b[.!]*$/.test(t)) return { kind: "no" };
  if (/^(hi|hello|hey|hiya|good (morning|afternoon|evening)|yo)\b[!. ]*(there|margin)?[!. ]*$/.test(t)) {
    return { kind: "greeting" };
  }
  if (/^(thanks|thank you|thx|cheers|great|nice|cool)\b/.test(t)) return { kind: "thanks" };

  if (
    /\b(selection|selected|highlighted)\b.*\btasks?\b|\b(make|turn|create|split)\b.*\btasks?\b.*\b(from|out of)\s+(this|that|it|these|the selection)\b|\bturn (this|that|it|these) into tasks\b/.test(
      t,
    )
  ) {
    return { kind: "selection" };
  }
  const page = t.match(
    /^(?:please\s+)?(?:save|add|bookmark|keep|capture)\s+(?:this|the|that)\s+(?:page|article|link|tab|site)(?:\s+(?:as a task|to my list))?(.*)$|^remind me to (?:read|check|look at|finish|watch) (?:this|it|that)(?: page| article)?(.*)$|^(?:read|check) (?:this|it) (?:later|tomorrow|tonight)(.*)$/,
  );
  if (page) {
    const rest = (page[1] ?? page[2] ?? page[3] ?? "").trim().replace(/^(for|on|by|due)\s+/, "");
    const later = /^read|^check/.test(t) && /later/.test(t) ? undefined : undefined;
    const tail = t.match(/^(?:read|check) (?:this|it) (tomorrow|tonight)/)?.[1];
    return { kind: "save_page", due: clean(rest) || tail || later };
  }

  if (
    /^(delete|remove|clear|trash|wipe|erase)\s+(everything|all( of)?( my)?( the)? tasks|all( of them)?|my (whole|entire) list|the (whole|entire) list)\b/.test(
      t,
    )
  ) {
    return { kind: "delete_all" };
  }
  let m = text.match(/^(?:please\s+)?(?:delete|remove|trash|get rid of|drop|scrap)\s+(.+)$/i);
  if (m) return { kind: "delete", target: target(m[1]!) };

  m =
    text.match(/^(?:please\s+)?rename\s+(.+?)\s+(?:to|as|into)\s+(.+)$/i) ??
    text.match(/^(?:please\s+)?change\s+(?:the\s+)?(?:title|name)\s+of\s+(.+?)\s+to\s+(.+)$/i);
  if (m) return { kind: "rename", target: target(m[1]!), title: clean(m[2]!) };

  m =
    text.match(
      /^(?:please\s+)?(?:move|reschedule|push|postpone|shift|delay|bump)\s+(.+?)\s+(?:to|until|till|for|back to|out to)\s+(.+)$/i,
    ) ??
    text.match(
      /^(?:please\s+)?(?:change|set)\s+(?:the\s+)?(?:due(?: date)?|deadline)\s+(?:of|for)\s+(.+?)\s+to\s+(.+)$/i,
    );
  if (m) return { kind: "reschedule", target: target(m[1]!), due: clean(m[2]!) };

  m =
    text.match(
      /^(?:please\s+)?(?:make|set|mark|change)\s+(.+?)\s+(?:to\s+|as\s+)?(high|low|medium|normal)(?:\s+priority)?$/i,
    ) ??
    text.match(
      /^(?:please\s+)?(?:set|change)\s+(?:the\s+)?priority\s+(?:of|for|on)\s+(.+?)\s+to\s+(high|low|medium|normal)$/i,
    ) ??
    text.match(/^(?:please\s+)?prioriti[sz]e\s+(.+?)()$/i);
  if (m && !/\b(done|complete|completed|finished)\b/i.test(m[2] ?? "")) {
    const p = (m[2] || "high").toLowerCase();
    return {
      kind: "priority",
      target: target(m[1]!),
      priority: p === "normal" ? "medium" : (p as "low" | "medium" | "high"),
    };
  }

  m =
    text.match(/^(?:please\s+)?(?:reopen|re-open|uncomplete|undo|restart)\s+(.+)$/i) ??
    text.match(/^(?:please\s+)?mark\s+(.+?)\s+(?:as\s+)?(?:not done|undone|incomplete|pending|open)$/i);
  if (m) return { kind: "reopen", target: target(m[1]!) };

  m =
    text.match(/^(?:please\s+)?(?:mark|set)\s+(.+?)\s+(?:as\s+)?(?:done|complete|completed|finished)$/i) ??
    text.match(/^(?:please\s+)?(?:complete|finish|check off|tick off|cross off|close)\s+(.+)$/i) ??
    text.match(
      /^(?:i\s+)?(?:finished|completed|did|have done|'ve done|am done with|'m done with)\s+(.+)$/i,
    ) ??
    text.match(/^done(?:\s+with)?[:\s]+(.+)$/i) ??
    text.match(/^(.+?)\s+is\s+(?:done|finished|complete)$/i);
  if (m) return { kind: "complete", target: target(m[1]!) };

  m = text.match(
    /^(?:please\s+)?(?:add|new task|create(?: a)? task|task|todo|to-do|remind me to|i need to|i have to|i must|don'?t let me forget to|don'?t forget to|put)[:\s]+(.+?)(?:\s+(?:to|on) (?:my|the) list)?$/i,
  );
  if (m) {
    const { rest, priority } = priorityOf(m[1]!);
    const titles = titlesOf(rest);
    if (titles.length) return { kind: "add", titles, priority };
  }

  if (
    /^(list|show|display|what|which|anything|do i have|what's|whats|any)\b/.test(t) ||
    /\b(my )?(tasks|todos|to-dos|list)\b\??$/.test(t)
  ) {
    const filter = listFilter(t);
    if (filter) return { kind: "list", filter };
    if (/\b(tasks?|todos?|to-dos?|list|due|agenda|plate)\b/.test(t))
      return { kind: "list", filter: { status: "pending", label: "open" } };
  }
  return { kind: "unknown" };
}

/** Selected text as task titles: one per line or bullet, markers stripped, at most `max`. */
export function selectionLines(selection: string, max = 20): string[] {
  return selection
    .split(/\r?\n|(?:^|\s)[•·▪◦]\s+/)
    .map((l) => l.replace(/^\s*(?:[-*+•·▪◦]|\d+[.)]|\[[ x]?\])\s*/i, "").trim())
    .filter((l) => l.length > 1)
    .slice(0, max);
}
