/** "delete everything", "clear all my tasks", "remove all of them": bulk, so even one delete waits for a yes. */
const BULK = /\b(all|every|everything|each|entire|whole|both|them|these|those)\b/i;

export function isBulkRequest(message: string): boolean {
  // Words inside quotes are a title's ("rename "x" to "buy whole milk""), not the request's.
  return BULK.test(message.replace(/["“][^"”]*["”]/g, " "));
}

const DELETE = /\b(delete|remove|trash|erase|wipe|scrap|get rid of|throw away|bin|drop|clear|cancel)\b/i;

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
  /\b(add|save|create|new|make|turn|remind|remember|forget|note|capture|track|schedule|plan|put|book|bookmark|log|jot|keep|to-?do|need to|have to|must|want to|gotta|should|complete|done|did|finish(ed)?|check|uncheck|tick|cross|mark|close|reopen|undo|restore|bring|move|reschedule|postpone|delay|push|change|rename|call it|update|edit|set|prioriti[sz]e|priority|urgent|flag|due|delete|remove|trash|erase|wipe|scrap|get rid of|throw away|bin|drop|clear|cancel)\b/i;
/** "the second one", "the last": the user picking from the list their own request led to. */
const PICK = /^\s*(the\s+)?(first|second|third|fourth|fifth|last|\d+(st|nd|rd|th)?)(\s+one)?\s*[.!]*\s*$/i;

/**
 * Whether the user's own words ask for a change at all. A write the model makes in a turn that asked for none
 * came from something else it read (a page, a task's notes), so it waits for the user's yes.
 */
export function asksForChange(message: string): boolean {
  return CHANGE.test(message) || PICK.test(message) || readConfirmationReply(message) === "yes";
}
