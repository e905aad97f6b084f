/**
 * The pf.conf lexer, after pfctl's parse.y `yylex`: `#` comments, `\` line continuation, single or double quotes
 * (no macro expansion inside them), and `$name` macros expanded where they stand by pushing their text back into
 * the input — so `$int_en0:network` becomes the one word `en0:network`, and a macro holding `{ en0 en1 }` becomes a
 * list. Tokens keep the line of the source they came from (an expansion keeps the line of its `$`).
 */

/** A token: a bare word, a quoted string, punctuation, an end of line, or the end of input. */
export interface PfToken {
  kind: 'word' | 'string' | 'punct' | 'nl' | 'eof';
  value: string;
  line: number;
}

/** A syntax error: the line and what was expected there, as pfctl reports it. */
export class PfSyntaxError extends Error {
  override readonly name = 'PfSyntaxError';
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(`line ${line}: ${detail}`);
  }
}

interface Frame {
  text: string;
  pos: number;
  /** Source line for tokens from an expansion (its `$`); undefined for the file itself. */
  fixedLine: number | undefined;
  macro: string | undefined;
}

const PUNCT_TWO = new Set(['!=', '<=', '>=', '<>', '><']);
const PUNCT_ONE = new Set(['{', '}', '(', ')', ',', '!', '=', '<', '>']);
/** Characters that end a bare word (besides blanks). */
const WORD_STOP = new Set(['{', '}', '(', ')', ',', '!', '=', '<', '>', '"', "'", '#', '\n', '\\']);
/** A macro may not expand into itself through other macros more deeply than this. */
const MAX_EXPANSION_DEPTH = 32;

/** Reads tokens on demand, so that a macro defined on one line is known when the next line is read. */
export class PfLexer {
  private readonly frames: Frame[];
  private line = 1;

  constructor(
    text: string,
    private readonly macroValue: (name: string) => string | undefined,
  ) {
    this.frames = [{ text, pos: 0, fixedLine: undefined, macro: undefined }];
  }

  /** The line the next character belongs to. */
  get currentLine(): number {
    return this.top()?.fixedLine ?? this.line;
  }

  private top(): Frame | undefined {
    return this.frames[this.frames.length - 1];
  }

  /** The next character without consuming it, leaving finished expansions behind. */
  private peekChar(): string | undefined {
    for (;;) {
      const frame = this.top();
      if (frame === undefined) return undefined;
      if (frame.pos < frame.text.length) return frame.text[frame.pos];
      if (this.frames.length === 1) return undefined;
      this.frames.pop();
    }
  }

  private takeChar(): string {
    const frame = this.top()!;
    const ch = frame.text[frame.pos++]!;
    if (ch === '\n' && frame.fixedLine === undefined) this.line++;
    return ch;
  }

  private charAfter(): string | undefined {
    const frame = this.top();
    return frame === undefined ? undefined : frame.text[frame.pos + 1];
  }

  /** Push the value of `$name` back into the input. */
  private expandMacro(): void {
    const line = this.currentLine;
    this.takeChar(); // '$'
    let name = '';
    for (let ch = this.peekCharInFrame(); ch !== undefined && /[A-Za-z0-9_]/.test(ch); ch = this.peekCharInFrame()) name += this.takeChar();
    if (name === '') throw new PfSyntaxError(line, "expected a macro name after '$'");
    const value = this.macroValue(name);
    if (value === undefined) throw new PfSyntaxError(line, `macro '${name}' is not defined`);
    if (this.frames.length > MAX_EXPANSION_DEPTH) throw new PfSyntaxError(line, `macro '${name}' expands into itself`);
    this.frames.push({ text: value, pos: 0, fixedLine: line, macro: name });
  }

  /** Like peekChar, but without leaving the current frame (a macro name never spans an expansion's end). */
  private peekCharInFrame(): string | undefined {
    const frame = this.top();
    return frame !== undefined && frame.pos < frame.text.length ? frame.text[frame.pos] : undefined;
  }

  /** The next token. */
  next(): PfToken {
    for (;;) {
      const ch = this.peekChar();
      if (ch === undefined) return { kind: 'eof', value: '', line: this.currentLine };
      const line = this.currentLine;
      if (ch === ' ' || ch === '\t' || ch === '\r') {
        this.takeChar();
        continue;
      }
      if (ch === '\\') {
        // A backslash before the end of the line joins the next line to this one (pf.conf(5)).
        this.takeChar();
        let after = this.peekChar();
        while (after === ' ' || after === '\t' || after === '\r') {
          this.takeChar();
          after = this.peekChar();
        }
        if (after === '\n') {
          this.takeChar();
          continue;
        }
        throw new PfSyntaxError(line, "a '\\' must end its line (line continuation)");
      }
      if (ch === '#') {
        while (this.peekChar() !== undefined && this.peekChar() !== '\n') this.takeChar();
        continue;
      }
      if (ch === '\n') {
        this.takeChar();
        return { kind: 'nl', value: '\n', line };
      }
      if (ch === '"' || ch === "'") {
        this.takeChar();
        let value = '';
        for (;;) {
          const c = this.peekChar();
          if (c === undefined || c === '\n') throw new PfSyntaxError(line, `unterminated quoted string (missing ${ch})`);
          this.takeChar();
          if (c === ch) break;
          value += c;
        }
        return { kind: 'string', value, line };
      }
      if (ch === '$') {
        this.expandMacro();
        continue;
      }
      const two = ch + (this.charAfter() ?? '');
      if (PUNCT_TWO.has(two)) {
        this.takeChar();
        this.takeChar();
        return { kind: 'punct', value: two, line };
      }
      if (PUNCT_ONE.has(ch)) {
        this.takeChar();
        return { kind: 'punct', value: ch, line };
      }
      let value = '';
      for (;;) {
        const c = this.peekChar();
        if (c === undefined || c === ' ' || c === '\t' || c === '\r' || WORD_STOP.has(c)) break;
        if (c === '$') {
          this.expandMacro();
          continue;
        }
        value += this.takeChar();
      }
      return { kind: 'word', value, line };
    }
  }
}
