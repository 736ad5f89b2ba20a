import { z } from "zod";

// The ChatKit custom-backend wire protocol, transcribed from openai/chatkit-python 1.6.5 `chatkit/types.py`,
// `actions.py` and `widgets.py` (reference/chatkit.md §2). Objects strip unknown keys, as pydantic ignores them.
// Optional fields accept `null` because Python clients and the reference server send explicit nulls.

const opt = <T extends z.ZodType>(schema: T) => schema.nullish();

/** Python emits naive local times; we emit UTC with `Z`. Both parse. */
export const isoDate = z.iso.datetime({ offset: true, local: true });

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), has_more: z.boolean(), after: opt(z.string()) });

// ---------- widgets (widgets.py: strict named components, else a dynamic component with extra keys) ----------

export const actionConfig = z.object({
  type: z.string(),
  payload: z.unknown().optional(),
  handler: z.enum(["client", "server"]).optional(),
  loadingBehavior: z.enum(["auto", "none", "self", "container"]).optional(),
  streaming: z.boolean().optional(),
});

export type WidgetComponent = {
  type: string;
  key?: string | null;
  id?: string | null;
  children?: WidgetComponent | WidgetComponent[] | null;
  [prop: string]: unknown;
};

export const widgetComponent: z.ZodType<WidgetComponent> = z.lazy(() =>
  z.looseObject({
    type: z.string(),
    key: opt(z.string()),
    id: opt(z.string()),
    children: opt(z.union([widgetComponent, z.array(widgetComponent)])),
  }),
);

export const WIDGET_ROOT_TYPES = ["Card", "ListView", "Basic"] as const;
export type WidgetRoot = WidgetComponent & { type: (typeof WIDGET_ROOT_TYPES)[number] };
export const widgetRoot = z.looseObject({
  type: z.enum(WIDGET_ROOT_TYPES),
  key: opt(z.string()),
  id: opt(z.string()),
  children: opt(z.union([widgetComponent, z.array(widgetComponent)])),
}) as unknown as z.ZodType<WidgetRoot>;

// ---------- sources, annotations, tasks, workflows ----------

const sourceBase = {
  title: z.string(),
  description: opt(z.string()),
  timestamp: opt(z.string()),
  group: opt(z.string()),
};
export const urlSource = z.object({
  ...sourceBase,
  type: z.literal("url"),
  url: z.string(),
  attribution: opt(z.string()),
});
export const fileSource = z.object({ ...sourceBase, type: z.literal("file"), filename: z.string() });
export const entitySource = z.object({
  ...sourceBase,
  type: z.literal("entity"),
  id: z.string(),
  icon: opt(z.string()),
  label: opt(z.string()),
  inline_label: opt(z.string()),
  interactive: z.boolean().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export const source = z.discriminatedUnion("type", [urlSource, fileSource, entitySource]);

export const annotation = z.object({
  type: z.literal("annotation"),
  source,
  index: opt(z.number().int()),
});

export const assistantMessageContent = z.object({
  annotations: z.array(annotation).default([]),
  text: z.string(),
  type: z.literal("output_text"),
});

const statusIndicator = z.enum(["none", "loading", "complete"]).optional();
export const task = z.discriminatedUnion("type", [
  z.object({
    status_indicator: statusIndicator,
    type: z.literal("custom"),
    title: opt(z.string()),
    icon: opt(z.string()),
    content: opt(z.string()),
  }),
  z.object({
    status_indicator: statusIndicator,
    type: z.literal("web_search"),
    title: opt(z.string()),
    title_query: opt(z.string()),
    queries: z.array(z.string()).optional(),
    sources: z.array(urlSource).optional(),
  }),
  z.object({
    status_indicator: statusIndicator,
    type: z.literal("thought"),
    title: opt(z.string()),
    content: z.string(),
  }),
  z.object({
    status_indicator: statusIndicator,
    type: z.literal("file"),
    title: opt(z.string()),
    sources: z.array(fileSource).optional(),
  }),
  z.object({ status_indicator: statusIndicator, type: z.literal("image"), title: opt(z.string()) }),
]);

export const workflow = z.object({
  type: z.enum(["custom", "reasoning"]),
  tasks: z.array(task),
  summary: opt(
    z.union([
      z.object({ title: z.string(), icon: opt(z.string()) }),
      z.object({ duration: z.number().int() }),
    ]),
  ),
  expanded: z.boolean().default(false),
});

// ---------- user input ----------

export const userMessageContent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("input_text"), text: z.string() }),
  z.object({
    type: z.literal("input_tag"),
    id: z.string(),
    text: z.string(),
    data: z.record(z.string(), z.unknown()),
    group: opt(z.string()),
    interactive: z.boolean().optional(),
  }),
]);

export const inferenceOptions = z.object({
  tool_choice: opt(z.object({ id: z.string() })),
  model: opt(z.string()),
});

export const userMessageInput = z.object({
  content: z.array(userMessageContent),
  attachments: z.array(z.string()),
  quoted_text: opt(z.string()),
  inference_options: inferenceOptions,
});

export const attachment = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("file"),
    id: z.string(),
    name: z.string(),
    mime_type: z.string(),
    upload_descriptor: opt(
      z.object({
        url: z.string(),
        method: z.enum(["POST", "PUT"]),
        headers: z.record(z.string(), z.string()).optional(),
      }),
    ),
    thread_id: opt(z.string()),
  }),
  z.object({
    type: z.literal("image"),
    id: z.string(),
    name: z.string(),
    mime_type: z.string(),
    preview_url: z.string(),
    upload_descriptor: opt(
      z.object({
        url: z.string(),
        method: z.enum(["POST", "PUT"]),
        headers: z.record(z.string(), z.string()).optional(),
      }),
    ),
    thread_id: opt(z.string()),
  }),
]);

const answer = z.object({ values: z.array(z.string()).default([]), skipped: z.boolean().default(false) });
export const structuredInput = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("multiple_choice"),
    id: z.string(),
    question: z.string(),
    answer: opt(answer),
    options: z.array(z.object({ value: z.string() })),
    multiple: z.boolean().default(false),
  }),
  z.object({
    type: z.literal("freeform"),
    id: z.string(),
    question: z.string(),
    answer: opt(answer),
    description: opt(z.string()),
  }),
]);

// ---------- thread items ----------

const itemBase = { id: z.string(), thread_id: z.string(), created_at: isoDate };

export const userMessageItem = z.object({
  ...itemBase,
  type: z.literal("user_message"),
  content: z.array(userMessageContent),
  attachments: z.array(attachment).default([]),
  quoted_text: opt(z.string()),
  inference_options: inferenceOptions,
});
export const assistantMessageItem = z.object({
  ...itemBase,
  type: z.literal("assistant_message"),
  content: z.array(assistantMessageContent),
});
export const clientToolCallItem = z.object({
  ...itemBase,
  type: z.literal("client_tool_call"),
  status: z.enum(["pending", "completed"]).default("pending"),
  call_id: z.string(),
  name: z.string(),
  arguments: z.record(z.string(), z.unknown()),
  output: z.unknown().optional(),
});
export const widgetItem = z.object({
  ...itemBase,
  type: z.literal("widget"),
  widget: widgetRoot,
  copy_text: opt(z.string()),
});
export const generatedImageItem = z.object({
  ...itemBase,
  type: z.literal("generated_image"),
  image: opt(z.object({ id: z.string(), url: z.string() })),
});
export const structuredInputItem = z.object({
  ...itemBase,
  type: z.literal("structured_input"),
  status: z.enum(["pending", "answered", "skipped"]).default("pending"),
  inputs: z.array(structuredInput),
});
export const workflowItem = z.object({ ...itemBase, type: z.literal("workflow"), workflow });
export const taskItem = z.object({ ...itemBase, type: z.literal("task"), task });
export const hiddenContextItem = z.object({
  ...itemBase,
  type: z.literal("hidden_context_item"),
  content: z.unknown(),
});
export const sdkHiddenContextItem = z.object({
  ...itemBase,
  type: z.literal("sdk_hidden_context"),
  content: z.string(),
});
export const endOfTurnItem = z.object({ ...itemBase, type: z.literal("end_of_turn") });

export const threadItem = z.discriminatedUnion("type", [
  userMessageItem,
  assistantMessageItem,
  clientToolCallItem,
  widgetItem,
  generatedImageItem,
  structuredInputItem,
  workflowItem,
  taskItem,
  hiddenContextItem,
  sdkHiddenContextItem,
  endOfTurnItem,
]);

export const HIDDEN_ITEM_TYPES = ["hidden_context_item", "sdk_hidden_context"] as const;

// ---------- threads ----------

export const threadStatus = z.discriminatedUnion("type", [
  z.object({ type: z.literal("active") }),
  z.object({ type: z.literal("locked"), reason: opt(z.string()) }),
  z.object({ type: z.literal("closed"), reason: opt(z.string()) }),
]);

export const threadMetadata = z.object({
  title: opt(z.string()),
  id: z.string(),
  created_at: isoDate,
  status: threadStatus.default({ type: "active" }),
  allowed_image_domains: opt(z.array(z.string())),
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export const thread = threadMetadata.extend({ items: page(threadItem) });

// ---------- requests (types.py: StreamingReq | NonStreamingReq, discriminated by `type`) ----------

const listOrder = z.enum(["asc", "desc"]).default("desc");
const customActionParams = z.object({
  thread_id: z.string(),
  item_id: opt(z.string()),
  action: z.object({ type: z.string(), payload: z.unknown().optional() }),
});

const req = <T extends string, P extends z.ZodType>(type: T, params: P) =>
  z.object({
    type: z.literal(type),
    params,
    metadata: z.record(z.string(), z.unknown()).default({}),
  });

export const streamingRequests = [
  req("threads.create", z.object({ input: userMessageInput })),
  req("threads.add_user_message", z.object({ input: userMessageInput, thread_id: z.string() })),
  req("threads.add_client_tool_output", z.object({ thread_id: z.string(), result: z.unknown() })),
  req(
    "threads.add_structured_input",
    z.object({
      thread_id: z.string(),
      item_id: z.string(),
      input: z.object({
        status: z.enum(["answered", "skipped"]).default("answered"),
        answers: z.record(z.string(), answer).default({}),
      }),
    }),
  ),
  req("threads.retry_after_item", z.object({ thread_id: z.string(), item_id: z.string() })),
  req("threads.custom_action", customActionParams),
] as const;

export const nonStreamingRequests = [
  req("threads.get_by_id", z.object({ thread_id: z.string() })),
  req("threads.list", z.object({ limit: opt(z.number().int()), order: listOrder, after: opt(z.string()) })),
  req(
    "items.list",
    z.object({
      thread_id: z.string(),
      limit: opt(z.number().int()),
      order: listOrder,
      after: opt(z.string()),
    }),
  ),
  req(
    "items.feedback",
    z.object({
      thread_id: z.string(),
      item_ids: z.array(z.string()),
      kind: z.enum(["positive", "negative"]),
    }),
  ),
  req("attachments.create", z.object({ name: z.string(), size: z.number().int(), mime_type: z.string() })),
  req("attachments.delete", z.object({ attachment_id: z.string() })),
  req("threads.update", z.object({ thread_id: z.string(), title: z.string() })),
  req("threads.delete", z.object({ thread_id: z.string() })),
  req("input.transcribe", z.object({ audio_base64: z.string(), mime_type: z.string() })),
  req("threads.sync_custom_action", customActionParams),
] as const;

export const chatKitRequest = z.discriminatedUnion("type", [...streamingRequests, ...nonStreamingRequests]);

export const REQUEST_TYPES: readonly string[] = [...streamingRequests, ...nonStreamingRequests].map(
  (s) => s.shape.type.value,
);
const STREAMING_TYPES: ReadonlySet<string> = new Set(streamingRequests.map((s) => s.shape.type.value));

export type ChatKitRequest = z.infer<typeof chatKitRequest>;
export type StreamingRequest = Extract<
  ChatKitRequest,
  { type: (typeof streamingRequests)[number]["shape"]["type"]["value"] }
>;
export type NonStreamingRequest = Exclude<ChatKitRequest, StreamingRequest>;

export const isStreamingRequest = (r: ChatKitRequest): r is StreamingRequest => STREAMING_TYPES.has(r.type);

// ---------- stream events (types.py: ThreadStreamEvent, ThreadItemUpdate) ----------

export const threadItemUpdate = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("assistant_message.content_part.added"),
    content_index: z.number().int(),
    content: assistantMessageContent,
  }),
  z.object({
    type: z.literal("assistant_message.content_part.text_delta"),
    content_index: z.number().int(),
    delta: z.string(),
  }),
  z.object({
    type: z.literal("assistant_message.content_part.annotation_added"),
    content_index: z.number().int(),
    annotation_index: z.number().int(),
    annotation,
  }),
  z.object({
    type: z.literal("assistant_message.content_part.done"),
    content_index: z.number().int(),
    content: assistantMessageContent,
  }),
  z.object({
    type: z.literal("widget.streaming_text.value_delta"),
    component_id: z.string(),
    delta: z.string(),
    done: z.boolean(),
  }),
  z.object({ type: z.literal("widget.root.updated"), widget: widgetRoot }),
  z.object({
    type: z.literal("widget.component.updated"),
    component_id: z.string(),
    component: widgetComponent,
  }),
  z.object({ type: z.literal("workflow.task.added"), task_index: z.number().int(), task }),
  z.object({ type: z.literal("workflow.task.updated"), task_index: z.number().int(), task }),
  z.object({
    type: z.literal("generated_image.updated"),
    image: z.object({ id: z.string(), url: z.string() }),
    progress: opt(z.number()),
  }),
]);

export const threadStreamEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("thread.created"), thread }),
  z.object({ type: z.literal("thread.updated"), thread }),
  z.object({ type: z.literal("thread.item.done"), item: threadItem }),
  z.object({ type: z.literal("thread.item.added"), item: threadItem }),
  z.object({ type: z.literal("thread.item.updated"), item_id: z.string(), update: threadItemUpdate }),
  z.object({ type: z.literal("thread.item.removed"), item_id: z.string() }),
  z.object({ type: z.literal("thread.item.replaced"), item: threadItem }),
  z.object({ type: z.literal("stream_options"), stream_options: z.object({ allow_cancel: z.boolean() }) }),
  z.object({ type: z.literal("progress_update"), icon: opt(z.string()), text: z.string() }),
  z.object({
    type: z.literal("client_effect"),
    name: z.string(),
    data: z.record(z.string(), z.unknown()).default({}),
  }),
  z.object({
    type: z.literal("error"),
    code: z.string().default("custom"),
    message: opt(z.string()),
    allow_retry: z.boolean().default(false),
  }),
  z.object({
    type: z.literal("notice"),
    level: z.enum(["info", "warning", "danger"]),
    message: z.string(),
    title: opt(z.string()),
  }),
]);

// ---------- responses ----------

export const syncCustomActionResponse = z.object({ updated_item: opt(threadItem) });
export const transcriptionResult = z.object({ text: z.string() });

// ---------- TypeScript types ----------

export type ThreadItem = z.infer<typeof threadItem>;
export type UserMessageItem = z.infer<typeof userMessageItem>;
export type AssistantMessageItem = z.infer<typeof assistantMessageItem>;
export type WidgetItem = z.infer<typeof widgetItem>;
export type WorkflowItem = z.infer<typeof workflowItem>;
export type HiddenContextItem = z.infer<typeof hiddenContextItem>;
export type Task = z.infer<typeof task>;
export type Workflow = z.infer<typeof workflow>;
export type ThreadMetadata = z.infer<typeof threadMetadata>;
export type Thread = z.infer<typeof thread>;
export type ThreadStatus = z.infer<typeof threadStatus>;
export type ThreadStreamEvent = z.infer<typeof threadStreamEvent>;
export type ThreadItemUpdate = z.infer<typeof threadItemUpdate>;
export type UserMessageInput = z.infer<typeof userMessageInput>;
export type Action = { type: string; payload?: unknown };
export type Page<T> = { data: T[]; has_more: boolean; after?: string | null };
