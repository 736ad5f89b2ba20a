// The offline model's understanding of a message: plain commands in varied phrasings, nothing more.
import { extractDueFromTitle, isDuePhrase } from "../../tasks/due.ts";
import { isBareTask } from "../confirmation.ts";

export type Priority = "low" | "medium" | "high";

export type ListFilter = {
  status?: "pending" | "completed" | "all" | "deleted";
  due?: "overdue" | "today" | "upcoming";
  /** Narrower than the tool's filters; applied to the listed tasks' local dates. */
  window?: "tomorrow" | "week" | "next week" | "weekend" | { day: string };
  /** Also applied to the listed tasks: the tool has no priority filter. */
  priority?: Priority;
  /** Words in a title or notes, as list_tasks' `query` finds them. */
  query?: string;
  label: string;
};

/** A change to one task the user names by title (or by its place in the last list: "the second one"). */
export type Edit =
  | { kind: "complete"; target: string }
  | { kind: "reopen"; target: string }
  /** Out of the trash. */
  | { kind: "restore"; target: string }
  | { kind: "reschedule"; target: string; due: string; alternatives?: Edit[] }
  | { kind: "rename"; target: string; title: string; alternatives?: Edit[] }
  /** Moves the due by whole days from where it is ("delay X by a day": 1, "bring X forward a week": -7). */
  | { kind: "shift"; target: string; days: number }
  | { kind: "priority"; target: string; priority: Priority }
  | { kind: "delete"; target: string };

/** The same change to several tasks: those the last answer listed, or those a filter finds. */
export type Bulk = {
  kind: "bulk";
  change: Exclude<Edit, { kind: "rename" | "shift" }>;
  /** "all of them", "these": the tasks of the previous answer (else, for "all"/"everything", `filter`'s). */
  listed: "required" | "preferred" | "no";
  filter: ListFilter;
};

export type Command =
  | { kind: "greeting" }
  | { kind: "chatter" }
  /** "help", "what can you do?" */
  | { kind: "help" }
  /** A command word with no task ("add", "delete"): what to ask back. */
  | { kind: "incomplete"; verb: string }
  | { kind: "thanks" }
  /** `split`: the titles came from a comma list ("add milk, eggs, bread"), which the answer says. */
  | { kind: "add"; titles: string[]; priority?: Priority; labels?: string[]; split?: boolean }
  | { kind: "list"; filter: ListFilter }
  | Edit
  | Bulk
  /** "the second one" alone: the previous request, on that task of the previous answer. */
  | { kind: "pick"; target: string }
  /** A change to "it" or "that": fine after an answer about one task, else the task must be named. */
  | { kind: "vague"; edit?: Edit }
  /** `action` names what the user means to do with the page ("Read"), and prefixes its title. */
  | { kind: "save_page"; due?: string; action?: string }
  | { kind: "selection" }
  | { kind: "yes" }
  | { kind: "no" }
  /** Take back what the previous answer changed. */
  | { kind: "undo" }
  /** "and bread too", "same for eggs": the previous request, on another task. */
  | { kind: "also"; target: string }
  | { kind: "unknown" };

// Politeness around a command changes nothing about it: "can you …", "… please?", "… for me, thanks!".
const POLITE_START =
  /^(?:(?:please|pls|plz|kindly|hey margin|margin|so|also|and|now|actually|oh|can you|could you|would you|will you|can u|could u|i'?d like you to|i want you to|go and)\b[,\s]*)+/i;
const POLITE_END = /(?:[,\s]+(?:please|pls|plz|for me|thanks|thank you|thx|now|then))+$/i;
const PUNCTUATION_END = /[\s.!?]+$/;

function withoutPoliteness(text: string): string {
  const once = (s: string) =>
    s
      .replace(PUNCTUATION_END, "")
      .replace(POLITE_END, "")
      .replace(POLITE_START, "")
      .replace(PUNCTUATION_END, "");
  const stripped = once(once(text));
  // "thanks!" or "please" alone is the whole message, not politeness around one.
  return stripped || text.replace(PUNCTUATION_END, "");
}

/** Trailing punctuation, then one pair of quotes around the whole. */
const clean = (s: string) =>
  s
    .trim()
    .replace(PUNCTUATION_END, "")
    .replace(/^["'“‘](.*)["'”’]$/, "$1")
    .trim();

/** A reference to a task: "the walk the dog task", "my "call mum"" → the words to look for. */
export const target = (s: string) =>
  clean(
    clean(s)
      .replace(/^(?:the|my)\s+/i, "")
      .replace(/^task\s+|\s+task$/gi, ""),
  );

const PRIORITY_WORDS: Record<string, Priority> = {
  high: "high",
  top: "high",
  urgent: "high",
  important: "high",
  medium: "medium",
  normal: "medium",
  low: "low",
};
const priorityWord = (word: string) => PRIORITY_WORDS[word.toLowerCase()];

/**
 * A priority said around an add's titles: "high priority" / "priority low" anywhere outside quotes, "urgent" or
 * "asap" only at the end or before a colon ("add urgent care appointment" keeps its title).
 */
function priorityOf(text: string): { rest: string; priority?: Priority } {
  const outside = text.replace(/["“][^"”]*["”]/g, (q) => "_".repeat(q.length));
  const m =
    outside.match(
      /[,\s]*(?:with\s+|as\s+|at\s+)?\b(?:(high|top|low|medium|normal)\s+priority|priority\s+(high|low|medium))\b/i,
    ) ??
    outside.match(/^(urgent|asap)[:,]|[,\s]+(?:it'?s\s+)?(urgent|asap)$/i) ??
    outside.match(/(?:^|\s)!(high|low|medium|urgent)\b/i);
  if (!m) return { rest: text };
  const word = (m[1] ?? m[2] ?? m[3] ?? "high").toLowerCase();
  const rest = `${text.slice(0, m.index)} ${text.slice(m.index! + m[0].length)}`.replace(/\s+/g, " ").trim();
  return { rest, priority: word === "asap" ? "high" : priorityWord(word) };
}

/**
 * Labels said around an add's titles: "#groceries" tags, and the list a task goes on ("add milk to my shopping
 * list"), outside quotes.
 */
function labelsOf(text: string): { rest: string; labels: string[] } {
  const labels: string[] = [];
  const outside = text.replace(/["“][^"”]*["”]/g, (q) => "_".repeat(q.length));
  let rest = text;
  for (const m of [...outside.matchAll(/(?:^|\s)#([\p{L}\p{N}][\p{L}\p{N}_-]{0,49})/gu)].reverse()) {
    labels.unshift(m[1]!.toLowerCase());
    rest = rest.slice(0, m.index) + rest.slice(m.index! + m[0].length);
  }
  const list = rest.match(LIST_NAME);
  if (list && !/^(?:to-?do|task|reminder)s?$/i.test(list[1]!)) {
    labels.push(list[1]!.toLowerCase());
    rest = rest.slice(0, list.index);
  }
  return { rest: rest.replace(/\s+/g, " ").trim(), labels: [...new Set(labels)] };
}

/** Date words are read the same in any zone; only whether they are dates matters here. */
const anyDay = () => ({ now: new Date(), tz: "UTC" });
const isDue = (text: string) => isDuePhrase(text, anyDay());

// Not the start of another task: a clause that goes on about the first ("…, which is next month").
const CLAUSE = /^(?:which|that|who|because|so|but|since|when|where|if|as|or|then)\b/i;
const NAME = /^[A-Z][\w'’-]*$/;

/**
 * A comma list ("milk, eggs and bread", "call mum, book flights") as its items, or undefined when the commas
 * belong to one task: a due with a comma ("tomorrow, 5pm"), a clause, or names ("dinner with Anna, Ben and
 * Carl"). A due at the end of the last item ("…, bread tomorrow") is meant for each.
 */
function commaList(text: string): string[] | undefined {
  if (!text.includes(",")) return undefined;
  const parts = text.split(/\s*,\s*/).map((p) => p.replace(/^(?:and|&)\s+/i, "").trim());
  const last = parts.pop()!;
  const items = [...parts, ...last.split(/\s+(?:and|&)\s+/i)].map((p) => clean(p));
  const rest = items.slice(1);
  if (items.length < 2 || items.some((i) => !i)) return undefined;
  if (rest.some((i) => isDue(i) || CLAUSE.test(i)) || rest.every((i) => NAME.test(i))) return undefined;
  const shared = extractDueFromTitle(items.at(-1)!, anyDay());
  if (!shared || !items.at(-1)!.toLowerCase().endsWith(shared.due.phrase.toLowerCase())) return items;
  items[items.length - 1] = shared.title;
  return items.map((i) => `${i} ${shared.due.phrase}`);
}

/**
 * The titles of an add: quoted ones each make a task (`add "eggs" and "bread"`), so do the items of a comma
 * list (`add milk, eggs, bread`); else the whole text is one.
 */
function titlesOf(text: string): { titles: string[]; split?: boolean } {
  const quoted = [...text.matchAll(/["“]([^"”]+)["”]/g)].map((m) => m[1]!.trim()).filter(Boolean);
  if (quoted.length) {
    // Words after the last quote (a shared due such as "tomorrow") apply to each.
    const tail = text.slice(text.lastIndexOf(quoted.at(-1)!) + quoted.at(-1)!.length).replace(/^["”]/, "");
    const shared = tail.replace(/^\s*(?:,|and\b)?\s*/i, "").trim();
    return { titles: quoted.map((q) => (shared ? `${q} ${shared}` : q)) };
  }
  const items = commaList(text);
  if (items) return { titles: items, split: true };
  return { titles: [clean(text)].filter(Boolean) };
}

const HIGH = /\b(?:(?:high|top)[- ]priority|urgent|important)\b/;
const LOW = /\blow[- ]priority\b/;

/** Which tasks a listing asks for: by status or due ("overdue", "this week", "done"), and by priority. */
function listFilter(t: string): ListFilter | undefined {
  const priority = HIGH.test(t) ? "high" : LOW.test(t) ? "low" : undefined;
  if (!priority) return dueFilter(t);
  // "what's important today?": today's, of high priority.
  const due = dueFilter(t.replace(HIGH, " ").replace(LOW, " "));
  return due
    ? { ...due, status: due.status ?? "pending", priority }
    : { status: "pending", priority, label: `${priority} priority` };
}

function dueFilter(t: string): ListFilter | undefined {
  if (/\b(overdue|late|past due|missed|behind)\b/.test(t)) return { due: "overdue", label: "overdue" };
  if (/\btomorrow\b/.test(t)) return { due: "upcoming", window: "tomorrow", label: "due tomorrow" };
  if (/\b(this week|the week|next (few|7|seven) days)\b/.test(t))
    return { window: "week", label: "due this week" };
  if (/\btoday'?s?\b|\btonight\b/.test(t)) return { due: "today", label: "due today" };
  if (/\b(?:trash|bin|deleted)\b/.test(t)) return { status: "deleted", label: "deleted" };
  if (/\bweekend\b/.test(t)) return { status: "pending", window: "weekend", label: "due this weekend" };
  if (/\bnext week\b/.test(t)) return { status: "pending", window: "next week", label: "due next week" };
  // "due on friday", "tasks for dec 12": one day.
  const day = t.match(/\b(?:for|on|due(?: on)?)\s+(.+?)\??$/)?.[1];
  if (day && isDue(day) && !/\b(?:every|each|week|month|year|weekend)\b/.test(day))
    return { status: "pending", window: { day }, label: `due ${day}` };
  if (/\b(upcoming|coming up|later|future|next|ahead|soon)\b/.test(t))
    return { due: "upcoming", label: "upcoming" };
  if (
    /\b(completed|finished|done|ticked off|checked off)\b/.test(t) ||
    /\b(?:did|have) i (?:finish|complete|do|get done|tick off|check off)\b/.test(t)
  )
    return { status: "completed", label: "completed" };
  if (/\b(all|everything|every task)\b/.test(t)) return { status: "all", label: "all" };
  return undefined;
}

const YES =
  /^(?:y|yes|yeah|yep|yup|sure|ok|okay|confirm|go ahead|do it|please do|add them|go for it)(?:[,\s]+(?:add them|do it|go ahead|all of them|sure))*$/;
const NO =
  /^(?:n|no|nope|nah|cancel|never ?mind|don'?t|stop|forget it)(?:[,\s]+(?:don'?t|cancel|leave it))*$/;
const GREETING =
  /^(?:hi|hello|hey|hiya|howdy|good (?:morning|afternoon|evening)|yo)(?:[,\s]+(?:there|margin|again))*$/;
const HELP =
  /^(?:help|\?+|commands|what can (?:you|i) (?:do|say|ask)|what do you do|how does (?:this|it) work|how do i (?:use|add|list|complete|delete|move)\b.*|who are you|what are you)$/;
const LONE_VERB =
  /^(?:add|new|create|save|delete|remove|trash|clear|complete|finish|done|reopen|restore|rename|move|reschedule|postpone|snooze|change|update|edit|mark)$/;
const THANKS =
  /^(?:thanks|thank you|thx|ty|cheers|great|nice|cool|perfect|awesome|amazing|brilliant|excellent|wonderful|fantastic|lovely|sweet)\b/;
/** Small talk that asks nothing ("lol", "hmm", "ok cool"): not a task to add. */
const CHATTER =
  /^(?:(?:lol|lmao|haha+|hehe+|hmm+|hm+|wow|yay|oh|ah|ooh|ok|okay|cool|nice|great|interesting|whatever|nvm|i see|got it|gotcha|noted|fair enough)[\s,.!?]*)+$/;

// "make tasks from this", "turn the selection into tasks", "create tasks from the selected text".
const SELECTION =
  /\b(?:selection|selected|highlighted)\b|\b(?:from|out of)\s+(?:this|that|these|it)(?:\s+(?:page|text|list|lines?))?$|\b(?:turn|convert|split)\s+(?:this|that|these|it)\b/;
const TASKS = /\b(?:tasks?|todos?|to-dos?)\b/;

// "save this page", "add this to my list", "bookmark page for friday": the rest is a due.
const PAGE =
  /^(?:(?:save|add|bookmark|keep|capture|store)\s+(?:(?:this|the|that)\s+(?:page|article|link|tab|site|post|video)|this|it)|(?:save|bookmark)\s+page)\b(?:\s+(?:as a task|to my list|to the list|to my tasks))?(.*)$/;
const REMIND_PAGE =
  /^(?:remind me to|i want to|i need to)\s+(read|watch|check|look at|finish|review)\s+(?:this|it|that)(?:\s+(?:page|article|post|video))?(.*)$/;
/** Dues that mean "no particular time". */
const NO_DUE = /^(?:later|sometime|some time|someday|soon|eventually)$/;

const UNDO =
  /^(?:oops[,\s]*)?(?:undo|revert|reverse|take back|roll back)(?:\s+(?:that|it|this|the last(?: one| change| thing)?|what you (?:just )?did))?$/;
// "search for dentist", "find tasks about the trip", "anything about taxes?": words to look for.
const SEARCH =
  /^(?:search(?:\s+for)?|find|look\s+(?:for|up)|(?:do i have\s+)?(?:any(?:thing)?|tasks?|todos?)\s+(?:about|mentioning|containing|related to|with the words?))\s+(.+)$/i;
const SEARCH_NOISE =
  /^(?:(?:my|the|all|any)\s+)?(?:tasks?|todos?|to-dos?)\s*(?:(?:about|mentioning|containing|with|for|called|named)\s+)?/i;
// "what should I do first?", "what do I work on now": the open list, first things first.
const LEFT = /^(?:what(?:'?s| is)|anything) (?:left|remaining|still open|outstanding|still to do)\b/;
const WHAT_NEXT = /^what (?:should|shall|do|can) i (?:do|work on|focus on|start with|tackle|pick up)\b/;

const DELETE_ALL =
  /^(?:delete|remove|clear|trash|wipe|erase|empty|get rid of)\s+(?:out\s+)?(?:everything|all(?: of)?(?: my| the)?(?: tasks| to-?dos)?|my (?:whole |entire )?(?:list|tasks)|the (?:whole |entire )?list)$/;
/** References that name no task: acting on a title search for "it" would hit whatever contains it. */
const VAGUE = /^(?:it|that|this|that one|this one|one|the other one|other one)$/i;

const ORDINALS = [
  "first",
  "second",
  "third",
  "fourth",
  "fifth",
  "sixth",
  "seventh",
  "eighth",
  "ninth",
  "tenth",
];
const ORDINAL =
  /^(?:the\s+)?(?:(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last)|(\d{1,2})(?:st|nd|rd|th)|(?:number|no\.?|#)\s*(\d{1,2}))(?:\s+(?:one|task|item|on the list))?$/i;

/** A place in the previous answer's list ("the second one", "2nd", "number 3", "the last one"): 1-based, -1 for last. */
export function ordinalOf(reference: string): number | undefined {
  const m = reference.trim().match(ORDINAL);
  if (!m) return undefined;
  if (m[1]) return m[1].toLowerCase() === "last" ? -1 : ORDINALS.indexOf(m[1].toLowerCase()) + 1;
  const n = Number(m[2] ?? m[3]);
  return n >= 1 ? n : undefined;
}

const FIRST_OR_LAST = /^(?:the\s+)?(first|last)\s+(two|three|four|five|[2-9])(?:\s+(?:ones|tasks|items))?$/i;
const SMALL: Record<string, number> = { two: 2, three: 3, four: 4, five: 5 };

/**
 * Several places in the previous answer's list: "the first two", "the last 3", "the first and third", "1 and 3".
 * Undefined for one place or none.
 */
export function ordinalsOf(reference: string): number[] | undefined {
  const range = reference.trim().match(FIRST_OR_LAST);
  if (range) {
    const n = SMALL[range[2]!.toLowerCase()] ?? Number(range[2]);
    const first = range[1]!.toLowerCase() === "first";
    return Array.from({ length: n }, (_, i) => (first ? i + 1 : i - n));
  }
  const parts = reference.split(/\s*,\s*(?:and\s+)?|\s+and\s+/i);
  const places = parts.map((p) => ordinalOf(p.replace(/^(\d{1,2})$/, "number $1")));
  return parts.length > 1 && places.every((p) => p !== undefined) ? (places as number[]) : undefined;
}

// "all", "everything", "all overdue tasks", "every task due today": the rest (if any) says which tasks.
const EVERY = /^(?:all|every|everything|each)\b(?:\s+of)?(\s+(?:them|these|those))?(?:\s+(?:my|the))?\s*/i;
const THEM = /^(?:them|these|those|both|both of them|these ones|those ones|the ones above)$/i;

/** The same change to several tasks, when the target names a group rather than a task. */
function bulkOf(edit: Edit): Bulk | undefined {
  if (edit.kind === "rename" || edit.kind === "shift") return undefined;
  const filter: ListFilter =
    edit.kind === "reopen"
      ? { status: "completed", label: "completed" }
      : edit.kind === "restore"
        ? { status: "deleted", label: "deleted" }
        : { status: "pending", label: "open" };
  if (THEM.test(edit.target)) return { kind: "bulk", change: edit, listed: "required", filter };
  // "delete completed tasks", "complete the overdue ones": a group named by what the list filters by.
  const group = edit.target.match(/^(?:the\s+)?(.+?)\s+(?:tasks|todos|to-dos|ones)$/i)?.[1];
  const named = group && listFilter(group.toLowerCase());
  if (named) return { kind: "bulk", change: edit, listed: "no", filter: named };
  const m = edit.target.match(EVERY);
  if (!m) return undefined;
  if (m[1]) return { kind: "bulk", change: edit, listed: "required", filter };
  const rest = edit.target.slice(m[0].length).toLowerCase();
  if (!rest) return { kind: "bulk", change: edit, listed: "preferred", filter };
  return { kind: "bulk", change: edit, listed: "no", filter: listFilter(rest) ?? filter };
}

/** Every way to cut `body` at `sep` into a task and what it becomes, the shortest task first. */
function cuts(body: string, sep: RegExp): [string, string][] {
  return [...body.matchAll(sep)]
    .map((m): [string, string] => [body.slice(0, m.index), body.slice(m.index! + m[0].length)])
    .filter(([task, value]) => task.trim() && value.trim());
}

/**
 * A change whose task and new value are split by a word that titles hold too ("rename go to gym to go to the
 * gym"): each cut is an alternative, and the model picks the one whose task is a title. Without an exact title
 * the `prefer`red cut (else the first) is meant.
 */
function cutEdit(
  body: string,
  sep: RegExp,
  make: (task: string, value: string) => Edit | undefined,
  prefer: (edit: Edit) => boolean = () => false,
): Edit | undefined {
  const all = cuts(body, sep).flatMap(([task, value]) => make(target(task), clean(value)) ?? []);
  const primary = all.find(prefer) ?? all[0];
  if (!primary || all.length === 1) return primary;
  return primary.kind === "rename" || primary.kind === "reschedule"
    ? { ...primary, alternatives: all }
    : primary;
}

const rename = (task: string, title: string): Edit => ({ kind: "rename", target: task, title });
const reschedule = (task: string, due: string): Edit => ({ kind: "reschedule", target: task, due });
const STATUS_WORD = /^(?:done|complete|completed|finished|open|pending|not done|undone)$/i;

const COUNTS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  "a couple of": 2,
};
// "delay X by a day", "push X back 2 days", "postpone X for a week", "bring X forward a day", "move X 3 days later".
const SHIFT =
  /^(move|reschedule|push|postpone|shift|delay|bump|defer|put off|snooze|bring|pull)\s+(?:(back|out|forward|ahead)\s+)?(.+?)\s+(?:(back|out|forward|ahead|earlier|later)\s+)?(?:by\s+|for\s+)?(a couple of|a|an|one|two|three|four|five|six|seven|\d{1,3})\s+(days?|weeks?)(?:\s+(later|earlier|back|forward|ahead|out))?$/i;

function shiftOf(m: RegExpMatchArray): Edit {
  const count = /^\d+$/.test(m[5]!) ? Number(m[5]) : (COUNTS[m[5]!.toLowerCase()] ?? 1);
  const days = count * (/^week/i.test(m[6]!) ? 7 : 1);
  // "bring forward" and "earlier" move it sooner; "push back", "delay", "later" move it later.
  const sooner =
    /^(?:bring|pull)$/i.test(m[1]!) ||
    [m[2], m[4], m[7]].some((w) => w && /^(?:forward|ahead|earlier)$/i.test(w));
  return { kind: "shift", target: target(m[3]!), days: sooner ? -days : days };
}

const ADD =
  /^(?:add|create|new (?:task|todo|to-do|reminder)|todo|to-do|task|remind me(?: to| about| of)?|(?:set|make|create) (?:a |an )?(?:reminder|task|to-?do)(?: to| for)?|remember to|note|i need to|i have to|i must|i should|i'?ve got to|i gotta|don'?t let me forget(?: to)?|don'?t forget(?: to)?|put)[:\s]+(.+)$/i;
/** "a new task to", "task:" and "to my list" around an add's title are about the list, not the task. */
const ADD_NOISE_START =
  /^(?:(?:a|an)\s+)?(?:new\s+)?(?:task|to-?do|reminder|item)s?\b(?:\s+(?:to|called|named|for)\b)?[:\s]*|^to\s+/i;
const ADD_NOISE_END = /\s+(?:to|on|in)\s+(?:my|the)\s+(?:list|tasks|to-?do list|todo list)$/i;
/** "… to my shopping list", "… on the work list": the one-word name of a list, taken as a label. */
const LIST_NAME = /\s+(?:to|on|in)\s+(?:my|the)\s+([\p{L}\p{N}-]+)\s+list$/iu;

type Pattern = [RegExp, (m: RegExpMatchArray) => Command | undefined];

// Tried in order; the first that matches and gives a command wins. Task titles are the captured parts.
const PATTERNS: Pattern[] = [
  [/^(?:rename|retitle)\s+(.+)$/i, (m) => cutEdit(m[1]!, /\s+(?:to|as|into)\s+/gi, rename)],
  [
    /^(?:change|set|update)\s+(?:the\s+)?(?:title|name)\s+(?:of|for)\s+(.+)$/i,
    (m) => cutEdit(m[1]!, /\s+to\s+/gi, rename),
  ],
  [SHIFT, shiftOf],
  [
    /^(?:move|reschedule|push|postpone|shift|delay|bump|defer|put off|snooze)\s+(.+)$/i,
    (m) =>
      cutEdit(
        m[1]!,
        /\s+(?:to|until|till|for|back to|out to)\s+/gi,
        reschedule,
        (e) => "due" in e && isDue(e.due),
      ),
  ],
  [
    /^(?:change|set|update|make)\s+(?:the\s+)?(?:due(?:\s+date)?|deadline|date)\s+(?:of|for|on)\s+(.+?)\s+(?:to|for)\s+(.+)$/i,
    (m) => ({ kind: "reschedule", target: target(m[1]!), due: clean(m[2]!) }),
  ],
  [
    /^(?:make|set)\s+(.+?)\s+due\s+(?:on\s+|at\s+|by\s+)?(.+)$/i,
    (m) => ({ kind: "reschedule", target: target(m[1]!), due: clean(m[2]!) }),
  ],
  [
    /^(?:set|change|update|make)\s+(?:the\s+)?priority\s+(?:of|for|on)\s+(.+?)\s+(?:to\s+)?(\w+)$/i,
    (m) => priorityCommand(m[1]!, m[2]!),
  ],
  [
    /^(?:make|mark|set)\s+(.+?)\s+(?:as\s+)?(?:less important|not important|unimportant|not urgent)$/i,
    (m) => priorityCommand(m[1]!, "low"),
  ],
  [
    /^(?:make|set|mark|change|flag)\s+(.+?)\s+(?:to\s+|as\s+)?(?:an?\s+)?(\w+)(?:\s+priority)?$/i,
    (m) => priorityCommand(m[1]!, m[2]!),
  ],
  [/^(?:prioriti[sz]e|raise the priority of|bump up)\s+(.+)$/i, (m) => priorityCommand(m[1]!, "high")],
  [/^(?:deprioriti[sz]e|lower the priority of)\s+(.+)$/i, (m) => priorityCommand(m[1]!, "low")],
  [/^(.+?)\s+is\s+(urgent|important)$/i, (m) => priorityCommand(m[1]!, m[2]!)],
  [
    // "change X to friday" moves it; "change X to Y" with no date in Y renames it.
    /^(?:change|update|switch)\s+(.+)$/i,
    (m) =>
      cutEdit(
        m[1]!,
        /\s+to\s+/gi,
        (task, value) =>
          STATUS_WORD.test(value) ? undefined : isDue(value) ? reschedule(task, value) : rename(task, value),
        (e) => e.kind === "reschedule",
      ),
  ],
  [
    /^(?:reopen|re-open|uncomplete|undo|uncheck|untick|unmark|restart)\s+(.+)$/i,
    (m) => ({ kind: "reopen", target: target(m[1]!) }),
  ],
  [
    /^(?:restore|undelete|recover|bring back|get back|put back)\s+(.+?)(?:\s+from the (?:trash|bin))?$/i,
    (m) => ({ kind: "restore", target: target(m[1]!) }),
  ],
  [
    /^(?:mark|set)\s+(.+?)\s+(?:as\s+)?(?:not done|not finished|undone|incomplete|pending|open|to ?do)$/i,
    (m) => ({ kind: "reopen", target: target(m[1]!) }),
  ],
  [
    /^(?:mark|set)\s+(.+?)\s+(?:as\s+)?(?:done|complete|completed|finished)$/i,
    (m) => ({ kind: "complete", target: target(m[1]!) }),
  ],
  [
    /^(?:complete|finish|check off|tick off|cross off|close|strike)\s+(.+)$/i,
    (m) => ({ kind: "complete", target: target(m[1]!) }),
  ],
  [
    /^(?:i\s*(?:'ve|have|'m|am)?\s+)?(?:finished|completed|did|done with|done)[:\s]+(.+)$/i,
    (m) => ({ kind: "complete", target: target(m[1]!) }),
  ],
  [
    /^(.+?)\s+is\s+(?:done|finished|complete|completed)$/i,
    (m) => ({ kind: "complete", target: target(m[1]!) }),
  ],
  [
    /^(?:delete|remove|trash|get rid of|drop|scrap|erase|bin|cancel|clear)\s+(.+)$/i,
    (m) => ({ kind: "delete", target: target(m[1]!) }),
  ],
  [
    /^remind me\s+((?:on|at|in|by|next|this|tomorrow|tonight|today|every)\b.*?)\s+to\s+(.+)$/i,
    (m) => ({ kind: "add", titles: [`${clean(m[2]!)} ${m[1]}`] }),
  ],
  // "make that oat milk", "i meant friday", "call mum at 8 instead": a correction of the task the last answer
  // named; a due said in it moves the task, other words rename it.
  [
    /^(?:make|turn) (?:that|it|this)(?: one)? (?:into |to )?(.+)$|^(?:i meant|i mean|sorry,? i meant)\s+(.+)$|^(.+?)[,\s]+instead$/i,
    (m) => {
      const value = clean(m[1] ?? m[2] ?? m[3]!);
      if (isDue(value)) return reschedule("that", value);
      const due = m[3] ? extractDueFromTitle(value, anyDay()) : null;
      return due ? reschedule("that", due.due.phrase) : rename("that", value);
    },
  ],
  [ADD, (m) => addOf(m[1]!)],
];

/** The tasks an add's words make ("milk, eggs", `"a" and "b"`), with a priority and labels said around them. */
function addOf(words: string): Command | undefined {
  const { rest: unprioritised, priority } = priorityOf(words);
  const { rest, labels } = labelsOf(unprioritised);
  const { titles, split } = titlesOf(rest.replace(ADD_NOISE_START, "").replace(ADD_NOISE_END, ""));
  if (!titles.length) return undefined;
  return { kind: "add", titles, priority, ...(labels.length ? { labels } : {}), ...(split ? { split } : {}) };
}

function priorityCommand(task: string, word: string): Command | undefined {
  const priority = priorityWord(word);
  return priority ? { kind: "priority", target: target(task), priority } : undefined;
}

// "and bread too", "eggs as well", "same for the bread", "do the same with eggs".
const ALSO =
  /^(?:(?:and|also|plus)\s+)?(.+?)\s+(?:too|as well)[.!]*$|^(?:(?:and\s+)?(?:do\s+)?(?:the\s+)?same|ditto)\s+(?:for|with)\s+(.+?)[.!]*$/i;

/** Reads one message. Only the user's own words get here: the page is never parsed as a command. */
export function parseCommand(message: string): Command {
  const also = message.trim().match(ALSO);
  if (also) return { kind: "also", target: target(also[1] ?? also[2]!) };
  // "wat", "wht": a quick "what".
  const text = withoutPoliteness(message.trim().replace(/\s+/g, " ")).replace(/^(?:wat|wht)\b/i, "what");
  const t = text.toLowerCase();

  if (YES.test(t)) return { kind: "yes" };
  if (NO.test(t)) return { kind: "no" };
  if (UNDO.test(t)) return { kind: "undo" };
  if (GREETING.test(t)) return { kind: "greeting" };
  if (HELP.test(t)) return { kind: "help" };
  if (LONE_VERB.test(t)) return { kind: "incomplete", verb: t };
  if (THANKS.test(t)) return { kind: "thanks" };
  if (CHATTER.test(t)) return { kind: "chatter" };

  if (TASKS.test(t) && SELECTION.test(t))
    // "turn this into a task" names no selection: the page is the task.
    return /\b(?:a|one) (?:task|todo|to-do)$/.test(t) && !/\b(?:selection|selected|highlighted)\b/.test(t)
      ? { kind: "save_page" }
      : { kind: "selection" };
  const page = t.match(PAGE);
  const remind = page ? undefined : t.match(REMIND_PAGE);
  if (page || remind) {
    const due = clean((page?.[1] ?? remind![2]!).replace(/^\s*(?:for|on|by|due|at)\s+/, ""));
    const action = remind?.[1];
    return {
      kind: "save_page",
      ...(due && !NO_DUE.test(due) ? { due } : {}),
      ...(action ? { action: action[0]!.toUpperCase() + action.slice(1) } : {}),
    };
  }
  if (DELETE_ALL.test(t))
    return {
      kind: "bulk",
      change: { kind: "delete", target: "everything" },
      listed: "no",
      filter: { status: "pending", label: "open" },
    };
  if (ordinalOf(text) !== undefined) return { kind: "pick", target: text };

  for (const [pattern, command] of PATTERNS) {
    const m = text.match(pattern);
    const found = m && command(m);
    if (!found) continue;
    if ("target" in found) {
      const bulk = bulkOf(found as Edit);
      if (bulk) return bulk;
      if (VAGUE.test(found.target)) return { kind: "vague", edit: found as Edit };
    }
    return found;
  }

  const search = text.match(SEARCH);
  if (search) {
    const words = clean(search[1]!.replace(SEARCH_NOISE, "")).replace(/^(?:the|my|a|an)\s+/i, "");
    // "find my tasks", "find overdue tasks": a listing, not words to look for.
    if (!words) return { kind: "list", filter: { status: "pending", label: "open" } };
    const named = listFilter(words.toLowerCase());
    if (named) return { kind: "list", filter: named };
    return { kind: "list", filter: { status: "all", query: words, label: `matching “${words}”` } };
  }
  if (LEFT.test(t)) return { kind: "list", filter: { status: "pending", label: "open" } };
  if (WHAT_NEXT.test(t))
    return { kind: "list", filter: listFilter(t) ?? { status: "pending", label: "open" } };
  if (
    /^(list|show|display|what|which|anything|do i have|what's|whats|any|tell me|how many|tasks?|todos?|to-dos?)\b/.test(
      t,
    ) ||
    /\b(my )?(tasks|todos|to-dos|list)$/.test(t)
  ) {
    const filter = listFilter(t);
    if (filter) return { kind: "list", filter };
    if (/\b(tasks?|todos?|to-dos?|list|due|agenda|plate)\b/.test(t))
      return { kind: "list", filter: { status: "pending", label: "open" } };
  }
  // Only a task ("milk", "dentist friday 3pm"): in a task chat that means "add this".
  if (isBareTask(text)) return addOf(text) ?? { kind: "unknown" };
  return { kind: "unknown" };
}

/** Selected text as task titles: one per line or bullet, markers stripped. */
export function selectionLines(selection: string): string[] {
  return selection
    .split(/\r?\n|(?:^|\s)[•·▪◦]\s+/)
    .map((l) => l.replace(/^\s*(?:[-*+•·▪◦]|\d+[.)]|\[[ x]?\])\s*/i, "").trim())
    .filter((l) => l.length > 1);
}
