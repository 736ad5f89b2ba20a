/** "delete everything", "clear all my tasks", "remove all of them": bulk, so even one delete waits for a yes. */
const BULK =
  /\b(all|every|everything|each|entire|whole|both|them|these|those|ones)\b|\b(?:overdue|completed|done|finished|open|pending|late|urgent|priority) (?:tasks|todos|to-dos)\b/i;

export function isBulkRequest(message: string): boolean {
  // Words inside quotes are a title's ("rename "x" to "buy whole milk""), not the request's.
  return BULK.test(message.replace(/["“][^"”]*["”]/g, " "));
}

// "undo" right after an add takes the new task back out: the user's own word for it.
const DELETE = /\b(delete|remove|trash|erase|wipe|scrap|get rid of|throw away|bin|drop|clear|cancel|undo)\b/i;

/** Whether the user's own words ask for a delete: a delete the model makes for any other reason (a page's text,
 * a misreading) waits for the user's yes. */
export function asksToDelete(message: string): boolean {
  return DELETE.test(message);
}

const YES =
  /^\s*(y|yes|yeah|yep|yup|sure|ok|okay|confirm(ed)?|do it|go ahead|please do|delete (them|it)|correct)\b/i;
const NO = /^\s*(n|no|nope|nah|cancel|stop|don'?t|do not|never ?mind|keep (them|it)|abort)\b/i;

/** Whether a message answers a pending confirmation: yes, no, or neither (a new request). */
export function readConfirmationReply(message: string): "yes" | "no" | undefined {
  if (NO.test(message)) return "no";
  if (YES.test(message)) return "yes";
  return undefined;
}

const CHANGE =
  /\b(add|save|create|new|make|turn|remind|remember|forget|note|capture|track|schedule|plan|put|book|bookmark|log|jot|keep|to-?do|need to|have to|must|want to|gotta|should|complete|done|did|finish(ed)?|check|uncheck|tick|cross|mark|close|reopen|undo|restore|bring|move|reschedule|postpone|delay|push|snooze|change|rename|call it|update|edit|set|prioriti[sz]e|priority|urgent|flag|due|delete|remove|trash|erase|wipe|scrap|get rid of|throw away|bin|drop|clear|cancel)\b/i;
/** "and bread too", "same for eggs", "I meant friday", "8pm instead": the previous request again, or corrected. */
const FOLLOW_UPS = [
  /^(?:(?:and|also|plus)\s+)?(.+?)\s+(?:too|as well)[.!]*$/i,
  /^(?:(?:and\s+)?(?:do\s+)?(?:the\s+)?same|ditto)\s+(?:for|with)\s+(.+?)[.!]*$/i,
  /^(?:sorry,?\s+)?i\s+mean(?:t)?\s+(.+?)[.!]*$/i,
  /^(.+?)[,\s]+instead[.!]*$/i,
];

/** A follow-up naming only a task or a date ("I like this article too" is not one: it names the page). */
function isFollowUp(message: string): boolean {
  const text = message.trim();
  return FOLLOW_UPS.some((f) => {
    const named = text.match(f)?.[1];
    return named !== undefined && isBareTask(named);
  });
}
/** "the second one", "the last": the user picking from the list their own request led to. */
const PICK = /^\s*(the\s+)?(first|second|third|fourth|fifth|last|\d+(st|nd|rd|th)?)(\s+one)?\s*[.!]*\s*$/i;

/**
 * Whether the user's own words ask for a change at all. A write the model makes in a turn that asked for none
 * came from something else it read (a page, a task's notes), so it waits for the user's yes.
 */
export function asksForChange(message: string): boolean {
  return (
    CHANGE.test(message) ||
    PICK.test(message) ||
    isFollowUp(message) ||
    readConfirmationReply(message) === "yes"
  );
}

// Questions, requests to the assistant, the page or "you": a message like these is not a task in itself.
const NOT_A_TASK =
  /\?|^(?:what|what'?s|when|where|who|why|how|which|is|are|am|was|were|do|does|did|can|could|would|will|should|shall|may|might|tell|show|list|find|search|look|summari[sz]e|explain|translate|describe|define|help|give|i|i'?m|we|hi|hello|hey|thanks|thank|thx|cheers|ok|okay)\b|\b(?:this|that|these|those|it|page|article|selection|you)\b/i;

/** A command word alone ("delete", "done"): half a request, not a task named "delete". */
const LONE_COMMAND =
  /^(?:add|new|create|save|delete|remove|trash|clear|complete|finish|done|undo|reopen|restore|rename|move|edit|update|change|mark|reschedule|postpone)$/i;

/**
 * Whether the message is a task and nothing else ("milk", "dentist friday 3pm", "milk, eggs"): a few words,
 * not a question, not a request to the assistant or about the page. Typed into a task chat, it means "add this".
 */
export function isBareTask(message: string): boolean {
  const text = message.trim().replace(/[\s.!]+$/, "");
  const words = text.split(/\s+/).length;
  return (
    /\p{L}/u.test(text) &&
    words <= 12 &&
    text.length <= 100 &&
    !NOT_A_TASK.test(text) &&
    !LONE_COMMAND.test(text) &&
    readConfirmationReply(text) === undefined
  );
}

const wordsOf = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/**
 * Whether an add_task call adds only what the user typed: their message is a bare task, and every word of the
 * call's title, due, notes and labels is one of its words, with no source. Page text can't make such a call
 * run on its own: its words would have to be the user's.
 */
export function addsOnlyTyped(message: string, args: Record<string, unknown>): boolean {
  if (!isBareTask(message) || args.source !== undefined) return false;
  const typed = new Set(wordsOf(message));
  const said = [args.title, args.due, args.notes, ...(Array.isArray(args.labels) ? args.labels : [])];
  if (said.some((v) => v !== undefined && v !== null && typeof v !== "string")) return false;
  const words = said.flatMap((v) => (typeof v === "string" ? wordsOf(v) : []));
  return words.length > 0 && words.every((w) => typed.has(w));
}
