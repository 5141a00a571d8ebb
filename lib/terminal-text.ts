// Text from outside (a post, a sample, a name, a handle, a file name, a server's
// message) made safe to print on a terminal. A terminal obeys control characters
// in what it prints: ESC starts CSI sequences (cursor moves, colours, clearing
// the screen) and OSC sequences (the window title, OSC 8 hyperlinks whose target
// differs from their text); C1 controls (U+0080–U+009F) do the same in one
// character on some terminals; a carriage return or a backspace overwrites what
// was printed before; bidi embeddings, overrides and isolates (U+202A–U+202E,
// U+2066–U+2069) reorder the rest of the line (the "Trojan Source" trick).
//
// Each such character is shown as a visible escape (`\x1b`, `\u202e`) rather
// than dropped: the reader sees that something was there, and nothing is
// obeyed. Tabs stay; line breaks stay only where the caller says the text is
// multi-line. Bidi marks (LRM, RLM, ALM) stay: they have no scope, and real
// right-to-left posts use them.
//
// Every string the CLI prints that did not come from tweetsmith's own code goes
// through terminalText (or terminalJson for --json output).

// C0 controls but tab and newline, DEL, C1 controls, the line and paragraph
// separators, and the bidi embeddings, overrides and isolates.
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_OR_NEWLINE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// In JSON output: the characters JSON.stringify leaves raw that a terminal would obey.
const UNSAFE_IN_JSON = /[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visible(char: string): string {
  const code = char.charCodeAt(0);
  if (code === 0x0a) return '\\n';
  if (code === 0x0d) return '\\r';
  if (code === 0x09) return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export interface TerminalTextOptions {
  /** Keep line breaks (a sample with --allow-newlines, a multi-line error message); default false: shown as `\n`. */
  multiline?: boolean;
}

/** `text` with every character a terminal would obey shown as a visible escape instead. */
export function terminalText(text: string, options: TerminalTextOptions = {}): string {
  return text.replace(options.multiline ? UNSAFE : UNSAFE_OR_NEWLINE, visible);
}

/**
 * JSON.stringify(value) for stdout: the same JSON value, with the characters
 * that JSON.stringify leaves raw but a terminal obeys (DEL, C1 controls, bidi
 * overrides, U+2028/2029) written as \u escapes. They can occur only inside
 * strings, where \uXXXX means the same character, so a parser reads exactly
 * what JSON.stringify would have given it.
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
