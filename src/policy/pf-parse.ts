/**
 * Reads a pf.conf into a `PfRuleset`, following pf.conf(5) (OpenBSD, FreeBSD, macOS) for the statements a kill
 * switch uses. Grammar, in pfctl's order:
 *
 *   macro      = name "=" value…
 *   option     = "set" ("skip on" ifspec | "block-policy" (drop|return) | other options, read and ignored)
 *   table      = "table" "<" name ">" [persist|const|counters] ["file" string]… ["{" entries "}"]
 *   rule       = ("pass"|"block" [drop|return…]|"match") ["in"|"out"] ["log" ["(" … ")"]] ["quick"]
 *                ["on" ifspec] [route] ["inet"|"inet6"] ["proto" protospec] ("all" | ["from" hosts [port]] ["to" hosts [port]])
 *                [filteropts]
 *   anchor     = "anchor" [name] [criteria as a rule] ["{" statements "}"]
 *
 * What pfctl itself refuses is refused here too, with the line and what was expected there: an unknown keyword, an
 * undefined macro, `port` without `proto tcp`/`udp` ("port only applies to tcp/udp"), `icmp-type` without `proto
 * icmp`. Translation (`nat`, `rdr`, `binat`), `scrub`, queueing, `antispoof` and `load anchor` are read and listed
 * as not modelled: they do not decide whether a filter rule passes a packet.
 */
import { parseNet, type IpNet } from './ip.js';
import { PfLexer, PfSyntaxError, type PfToken } from './pf-lex.js';
import {
  ICMP6_TYPES,
  ICMP_TYPES,
  PORT_NUMBERS,
  PROTOCOL_NUMBERS,
  type PfAnchorRule,
  type PfCriteria,
  type PfEndpoint,
  type PfFilterRule,
  type PfHost,
  type PfHostItem,
  type PfIcmpItem,
  type PfIfItem,
  type PfPortItem,
  type PfRuleset,
  type PfStatement,
  type PfTable,
} from './pf-model.js';

export { PfSyntaxError } from './pf-lex.js';

/** Statements pf reads that do not take part in filtering; read to the end and listed as not modelled. */
const NOT_FILTERING: ReadonlyMap<string, string> = new Map([
  ['scrub', 'normalization does not decide pass or block'],
  ['nat', 'translation rules are not modelled'],
  ['no', 'translation rules are not modelled'],
  ['rdr', 'translation rules are not modelled'],
  ['binat', 'translation rules are not modelled'],
  ['nat-anchor', 'translation anchors are not modelled'],
  ['rdr-anchor', 'translation anchors are not modelled'],
  ['binat-anchor', 'translation anchors are not modelled'],
  ['scrub-anchor', 'normalization anchors are not modelled'],
  ['dummynet-anchor', 'dummynet (macOS traffic shaping) is not modelled'],
  ['dummynet', 'dummynet (macOS traffic shaping) is not modelled'],
  ['altq', 'queueing is not modelled'],
  ['queue', 'queueing is not modelled'],
  ['antispoof', 'antispoof needs the interfaces\' networks, which a log does not record; not modelled'],
  ['load', 'the anchor\'s rules are in another file and are not read'],
  ['include', 'included files are not read'],
]);

/** Options with one argument (or a parenthesised/braced list) that do not restrict what a rule matches. */
const ACTION_OPTIONS = new Set([
  'label', 'tag', 'rtable', 'max-mss', 'min-ttl', 'set-tos', 'queue', 'dnpipe', 'dnqueue', 'max-pkt-rate', 'prio',
  'scrub', 'divert-to', 'divert-packet', 'rdomain', 'route-to', 'reply-to', 'dup-to', 'fastroute', 'set',
]);
/** Options without an argument. */
const FLAG_OPTIONS = new Set(['allow-opts', 'once', 'fragment', 'no-df', 'random-id', 'divert-reply', 'fastroute']);
/** Options that restrict a match on something a log does not carry: parsed, recorded, assumed to hold. */
const UNMODELLED_CRITERIA = new Set(['user', 'group', 'tagged', 'received-on', 'probability', 'tos', 'os']);

const RULE_OPTION_WORDS = [
  'flags', 'icmp-type', 'icmp6-type', 'keep state', 'modulate state', 'synproxy state', 'no state', 'label', 'tag',
  'tagged', 'user', 'group', 'allow-opts', 'probability', 'queue', 'rtable', 'route-to', 'reply-to', 'dup-to',
];

/** Parse a pf.conf; throws PfSyntaxError with the line and what was expected. */
export function parsePfConf(text: string): PfRuleset {
  return new Parser(text).parse();
}

interface StatementStart {
  line: number;
}

class Parser {
  private readonly lexer: PfLexer;
  private readonly lookahead: PfToken[] = [];
  private readonly lines: string[];
  private readonly ruleset: PfRuleset = {
    macros: new Map(),
    tables: new Map(),
    skip: [],
    blockPolicy: 'drop',
    statements: [],
    ignored: [],
  };
  /** Depth of `{ }` and `( )` inside the current statement: newlines there do not end it. */
  private nesting = 0;

  constructor(text: string) {
    this.lines = text.split('\n');
    this.lexer = new PfLexer(text, (name) => this.ruleset.macros.get(name));
  }

  parse(): PfRuleset {
    this.ruleset.statements = this.statements(false);
    return this.ruleset;
  }

  // ---- token plumbing -------------------------------------------------------------------------------------------

  private peek(offset = 0): PfToken {
    while (this.lookahead.length <= offset) {
      let token = this.lexer.next();
      while (token.kind === 'nl' && this.nesting > 0) token = this.lexer.next();
      this.lookahead.push(token);
    }
    return this.lookahead[offset]!;
  }

  private take(): PfToken {
    const token = this.peek();
    this.lookahead.shift();
    return token;
  }

  private isWord(value: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'word' && t.value === value;
  }

  private isPunct(value: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'punct' && t.value === value;
  }

  private acceptWord(value: string): boolean {
    if (!this.isWord(value)) return false;
    this.take();
    return true;
  }

  private acceptPunct(value: string): boolean {
    if (!this.isPunct(value)) return false;
    this.take();
    return true;
  }

  private fail(expected: string, token: PfToken = this.peek()): never {
    throw new PfSyntaxError(token.line, `expected ${expected}, found ${describe(token)}`);
  }

  private expectPunct(value: string, what = `'${value}'`): void {
    if (!this.acceptPunct(value)) this.fail(what);
  }

  private expectWord(value: string): void {
    if (!this.acceptWord(value)) this.fail(`'${value}'`);
  }

  /** A bare word or a quoted string (pf treats both as STRING). */
  private text(expected: string): PfToken {
    const t = this.peek();
    if (t.kind !== 'word' && t.kind !== 'string') this.fail(expected);
    return this.take();
  }

  /** Open a brace or parenthesis whose contents may span lines. */
  private open(value: '{' | '('): void {
    // The lookahead may already hold a newline that belongs inside: drop it once nested.
    this.expectPunct(value);
    this.nesting++;
    while (this.peek().kind === 'nl') this.take();
  }

  private close(value: '}' | ')'): void {
    if (!this.isPunct(value)) this.fail(`'${value}'`);
    this.nesting--;
    this.take();
  }

  private endOfStatement(insideAnchor: boolean): void {
    const t = this.peek();
    if (t.kind === 'nl') {
      this.take();
      return;
    }
    if (t.kind === 'eof' || (insideAnchor && t.kind === 'punct' && t.value === '}')) return;
    this.fail(`the end of the line or one of ${RULE_OPTION_WORDS.join(', ')}`);
  }

  private sourceText(fromLine: number, toLine: number): string {
    const parts: string[] = [];
    for (let i = fromLine; i <= toLine; i++) {
      const raw = this.lines[i - 1] ?? '';
      parts.push(stripComment(raw).replace(/\\\s*$/, ''));
    }
    return parts.join(' ').replace(/\s+/g, ' ').trim();
  }

  // ---- statements ----------------------------------------------------------------------------------------------

  private statements(insideAnchor: boolean): PfStatement[] {
    const out: PfStatement[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') {
        if (insideAnchor) this.fail("'}' to close the anchor");
        return out;
      }
      if (t.kind === 'nl') {
        this.take();
        continue;
      }
      if (insideAnchor && t.kind === 'punct' && t.value === '}') return out;
      const statement = this.statement(insideAnchor);
      if (statement !== undefined) out.push(statement);
    }
  }

  private statement(insideAnchor: boolean): PfStatement | undefined {
    const first = this.peek();
    const start: StatementStart = { line: first.line };
    if (first.kind === 'word' && this.isPunct('=', 1)) {
      this.macro();
      return undefined;
    }
    if (first.kind !== 'word') this.fail('a rule (pass, block, match, anchor), an option (set …), a table or a macro definition (name = value)');
    switch (first.value) {
      case 'set':
        this.option(insideAnchor);
        return undefined;
      case 'table':
        this.table(insideAnchor);
        return undefined;
      case 'pass':
      case 'block':
      case 'match':
        return this.filterRule(start, insideAnchor);
      case 'anchor':
        return this.anchorRule(start, insideAnchor);
      default: {
        const why = NOT_FILTERING.get(first.value);
        if (why === undefined) {
          this.fail('a rule (pass, block, match, anchor), an option (set …), a table or a macro definition (name = value)');
        }
        this.skipStatement(insideAnchor);
        this.ruleset.ignored.push({ line: start.line, text: this.sourceText(start.line, start.line), why });
        return undefined;
      }
    }
  }

  private skipStatement(insideAnchor: boolean): void {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      if (t.kind === 'nl') {
        this.take();
        return;
      }
      if (t.kind === 'punct' && t.value === '}' && this.nesting === 0 && insideAnchor) return;
      if (t.kind === 'punct' && (t.value === '{' || t.value === '(')) {
        this.open(t.value);
        continue;
      }
      if (t.kind === 'punct' && (t.value === '}' || t.value === ')') && this.nesting > 0) {
        this.close(t.value);
        continue;
      }
      this.take();
    }
  }

  private macro(): void {
    const name = this.take();
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name.value)) {
      throw new PfSyntaxError(name.line, `expected a macro name (a letter, then letters, digits or _), found '${name.value}'`);
    }
    this.take(); // '='
    const parts: string[] = [];
    for (;;) {
      // Newlines end a definition even after a '{' in its value: it is text until it is expanded.
      const t = this.lookahead.shift() ?? this.lexer.next();
      if (t.kind === 'nl' || t.kind === 'eof') break;
      parts.push(t.value);
    }
    if (parts.length === 0) throw new PfSyntaxError(name.line, `expected a value after '${name.value} ='`);
    this.ruleset.macros.set(name.value, parts.join(' '));
  }

  private option(insideAnchor: boolean): void {
    const setToken = this.take();
    const name = this.text('an option name after set');
    if (name.value === 'skip') {
      this.expectWord('on');
      this.ruleset.skip.push(...this.ifspec());
      this.endOfStatement(insideAnchor);
      return;
    }
    if (name.value === 'block-policy') {
      const policy = this.text("'drop' or 'return' after set block-policy");
      if (policy.value !== 'drop' && policy.value !== 'return') this.fail("'drop' or 'return'", policy);
      this.ruleset.blockPolicy = policy.value;
      this.endOfStatement(insideAnchor);
      return;
    }
    // set timeout, limit, optimization, ruleset-optimization, loginterface, state-policy, hostid, debug, …: they
    // change timers and limits, not which rule decides.
    this.skipStatement(insideAnchor);
    void setToken;
  }

  private table(insideAnchor: boolean): void {
    const tableToken = this.take();
    this.expectPunct('<', "'<' before the table name");
    const name = this.text('a table name').value;
    this.expectPunct('>', "'>' after the table name");
    const table: PfTable = { name, line: tableToken.line, entries: [], interfaceEntries: [], files: [] };
    for (;;) {
      if (this.acceptWord('persist') || this.acceptWord('const') || this.acceptWord('counters')) continue;
      if (this.acceptWord('file')) {
        table.files.push(this.text('a file name after file').value);
        continue;
      }
      break;
    }
    if (this.isPunct('{')) {
      this.open('{');
      while (!this.isPunct('}')) {
        if (this.acceptPunct(',')) continue;
        const negated = this.acceptPunct('!');
        const t = this.text('a table entry (address, network or interface)');
        const host = hostFromWord(t.value);
        if (host === undefined) throw new PfSyntaxError(t.line, `expected an address, a network or an interface in table <${name}>, found '${t.value}'`);
        if (host.kind === 'net') table.entries.push({ negated, net: host.net });
        else table.interfaceEntries.push({ negated, host });
      }
      this.close('}');
    }
    this.endOfStatement(insideAnchor);
    this.ruleset.tables.set(name, table);
  }

  // ---- rules ---------------------------------------------------------------------------------------------------

  private filterRule(start: StatementStart, insideAnchor: boolean): PfFilterRule {
    const action = this.take().value as PfFilterRule['action'];
    let blockPolicy: string | undefined;
    if (action === 'block') {
      const t = this.peek();
      if (t.kind === 'word' && ['drop', 'return', 'return-rst', 'return-icmp', 'return-icmp6'].includes(t.value)) {
        blockPolicy = this.take().value;
        if (blockPolicy !== 'drop' && blockPolicy !== 'return' && this.isPunct('(')) this.skipParenthesised();
      }
    }
    const criteria = this.criteria(true);
    const rule: PfFilterRule = {
      kind: 'filter',
      line: start.line,
      text: '',
      action,
      blockPolicy,
      log: criteria.log,
      quick: criteria.quick,
      state: 'default',
      tcpFlags: undefined,
      ...criteria.criteria,
    };
    this.filterOptions(rule, rule);
    const endLine = this.peek().line;
    this.endOfStatement(insideAnchor);
    rule.text = this.sourceText(start.line, Math.max(start.line, endLine));
    this.checkConsistent(rule, start.line);
    return rule;
  }

  private anchorRule(start: StatementStart, insideAnchor: boolean): PfAnchorRule {
    this.take(); // anchor
    let name = '';
    const t = this.peek();
    if (t.kind === 'string' || (t.kind === 'word' && !['in', 'out', 'on', 'inet', 'inet6', 'proto', 'from', 'to', 'all', 'quick'].includes(t.value))) {
      name = this.take().value;
    }
    const criteria = this.criteria(false);
    const anchor: PfAnchorRule = { kind: 'anchor', line: start.line, text: '', name, quick: criteria.quick, rules: undefined, ...criteria.criteria };
    const headerLine = this.peek().line;
    anchor.text = this.sourceText(start.line, Math.max(start.line, headerLine)).replace(/\s*\{.*$/, '');
    if (this.isPunct('{')) {
      // Inline rules: a nested rule set, one statement per line, closed by '}' (pf.conf(5) "ANCHORS").
      this.take();
      anchor.rules = this.statements(true);
      this.expectPunct('}', "'}' to close the anchor");
    } else {
      this.ruleset.ignored.push({
        line: start.line,
        text: anchor.text,
        why: `the rules of anchor "${name}" are loaded at run time (pfctl -a '${name}' -f …, or by an application) and are not known here; evaluated as empty`,
      });
    }
    this.endOfStatement(insideAnchor);
    return anchor;
  }

  /** direction, log, quick, on, route, af, proto, hosts — the criteria shared by rules and anchors. */
  private criteria(isFilter: boolean): { criteria: PfCriteria; log: boolean; quick: boolean } {
    const criteria: PfCriteria = {
      direction: undefined,
      interfaces: undefined,
      af: undefined,
      protos: undefined,
      from: { hosts: undefined, ports: undefined },
      to: { hosts: undefined, ports: undefined },
      icmp: undefined,
      unmodelled: [],
    };
    let log = false;
    let quick = false;
    if (this.isWord('in') || this.isWord('out')) criteria.direction = this.take().value as 'in' | 'out';
    if (isFilter && this.acceptWord('log')) {
      log = true;
      if (this.isPunct('(')) this.skipParenthesised();
    }
    if (this.acceptWord('quick')) quick = true;
    if (this.acceptWord('on')) criteria.interfaces = this.ifspec();
    if (this.isWord('route-to') || this.isWord('reply-to') || this.isWord('dup-to') || this.isWord('fastroute')) this.routeOption();
    if (this.isWord('inet') || this.isWord('inet6')) criteria.af = this.take().value === 'inet' ? 4 : 6;
    if (this.acceptWord('proto')) criteria.protos = this.protospec();
    if (this.acceptWord('all')) return { criteria, log, quick };
    if (this.acceptWord('from')) {
      criteria.from = this.endpoint('from');
      if (this.acceptWord('os')) criteria.unmodelled.push(`os ${this.listText()}`);
    }
    if (this.acceptWord('to')) criteria.to = this.endpoint('to');
    return { criteria, log, quick };
  }

  private ifspec(): PfIfItem[] {
    const item = (): PfIfItem => {
      const negated = this.acceptPunct('!');
      const t = this.text('an interface name');
      return { negated, name: t.value };
    };
    if (!this.isPunct('{')) return [item()];
    this.open('{');
    const items: PfIfItem[] = [];
    while (!this.isPunct('}')) {
      if (this.acceptPunct(',')) continue;
      items.push(item());
    }
    this.close('}');
    if (items.length === 0) this.fail('at least one interface in { }');
    return items;
  }

  private protospec(): number[] {
    const item = (): number => {
      const t = this.text('a protocol name or number');
      const n = /^\d+$/.test(t.value) ? Number(t.value) : PROTOCOL_NUMBERS.get(t.value.toLowerCase());
      if (n === undefined || n > 255) throw new PfSyntaxError(t.line, `expected a protocol name (tcp, udp, icmp, icmp6, …) or number, found '${t.value}'`);
      return n;
    };
    if (!this.isPunct('{')) return [item()];
    this.open('{');
    const out: number[] = [];
    while (!this.isPunct('}')) {
      if (this.acceptPunct(',')) continue;
      out.push(item());
    }
    this.close('}');
    return out;
  }

  private endpoint(side: 'from' | 'to'): PfEndpoint {
    const endpoint: PfEndpoint = { hosts: undefined, ports: undefined };
    if (!this.isWord('port')) endpoint.hosts = this.hostspec(side);
    if (this.acceptWord('port')) endpoint.ports = this.portspec();
    return endpoint;
  }

  private hostspec(side: string): PfHostItem[] | undefined {
    const item = (): PfHostItem => {
      const negated = this.acceptPunct('!');
      const t = this.peek();
      if (t.kind === 'punct' && t.value === '<') {
        this.take();
        const name = this.text('a table name after <').value;
        this.expectPunct('>', "'>' after the table name");
        if (!this.ruleset.tables.has(name)) throw new PfSyntaxError(t.line, `table <${name}> is not defined`);
        return { negated, host: { kind: 'table', name } };
      }
      if (t.kind === 'punct' && t.value === '(') {
        this.open('(');
        const inner = this.text('an interface name in ( )');
        this.close(')');
        const host = hostFromWord(inner.value);
        if (host === undefined || host.kind !== 'interface') throw new PfSyntaxError(inner.line, `expected an interface name in ( ), found '${inner.value}'`);
        return { negated, host: { ...host, dynamic: true } };
      }
      const word = this.text(`an address, a network, an interface, a table or 'any' after ${side}`);
      const host = hostFromWord(word.value);
      if (host === undefined) throw new PfSyntaxError(word.line, `expected an address, a network (a.b.c.d/n), an interface, <table>, self or any after ${side}, found '${word.value}'`);
      return { negated, host };
    };
    if (!this.isPunct('{')) {
      const single = item();
      return single.host.kind === 'any' && !single.negated ? undefined : [single];
    }
    this.open('{');
    const items: PfHostItem[] = [];
    while (!this.isPunct('}')) {
      if (this.acceptPunct(',')) continue;
      items.push(item());
    }
    this.close('}');
    if (items.length === 0) this.fail(`at least one host in { } after ${side}`);
    return items.some((i) => i.host.kind === 'any' && !i.negated) ? undefined : items;
  }

  private portspec(): PfPortItem[] {
    const number = (t: PfToken): number => {
      const n = /^\d+$/.test(t.value) ? Number(t.value) : PORT_NUMBERS.get(t.value.toLowerCase());
      if (n === undefined || n > 65535) throw new PfSyntaxError(t.line, `expected a port number or service name (domain, bootps, bootpc, mdns, …), found '${t.value}'`);
      return n;
    };
    const item = (): PfPortItem => {
      const t = this.peek();
      if (t.kind === 'punct' && ['=', '!=', '<', '<=', '>', '>='].includes(t.value)) {
        this.take();
        const n = number(this.text(`a port after '${t.value}'`));
        return { op: t.value as PfPortItem['op'], low: n, high: n };
      }
      const word = this.text('a port number, a range (67:68) or an operator (= != < <= > >=)');
      const range = /^(\w[\w-]*):(\w[\w-]*)$/.exec(word.value);
      if (range !== null) {
        const low = number({ ...word, value: range[1]! });
        const high = number({ ...word, value: range[2]! });
        return { op: ':', low, high };
      }
      const low = number(word);
      if (this.isPunct('><') || this.isPunct('<>')) {
        const op = this.take().value as '><' | '<>';
        return { op, low, high: number(this.text(`a port after '${op}'`)) };
      }
      return { op: '=', low, high: low };
    };
    if (!this.isPunct('{')) return [item()];
    this.open('{');
    const out: PfPortItem[] = [];
    while (!this.isPunct('}')) {
      if (this.acceptPunct(',')) continue;
      out.push(item());
    }
    this.close('}');
    return out;
  }

  private icmpspec(af: 4 | 6): PfIcmpItem[] {
    const names = af === 4 ? ICMP_TYPES : ICMP6_TYPES;
    const value = (what: string): number => {
      const t = this.text(what);
      const n = /^\d+$/.test(t.value) ? Number(t.value) : names.get(t.value);
      if (n === undefined || n > 255) throw new PfSyntaxError(t.line, `expected an ${af === 4 ? 'ICMP' : 'ICMPv6'} type name (${[...names.keys()].slice(0, 6).join(', ')}, …) or number, found '${t.value}'`);
      return n;
    };
    const item = (): PfIcmpItem => {
      const type = value(`an ${af === 4 ? 'icmp' : 'icmp6'} type`);
      let code: number | undefined;
      if (this.acceptWord('code')) {
        const t = this.text('an ICMP code');
        if (!/^\d+$/.test(t.value)) throw new PfSyntaxError(t.line, `expected a numeric ICMP code, found '${t.value}'`);
        code = Number(t.value);
      }
      return { type, code };
    };
    if (!this.isPunct('{')) return [item()];
    this.open('{');
    const out: PfIcmpItem[] = [];
    while (!this.isPunct('}')) {
      if (this.acceptPunct(',')) continue;
      out.push(item());
    }
    this.close('}');
    return out;
  }

  private filterOptions(rule: PfFilterRule, criteria: PfCriteria): void {
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'word' && !(t.kind === 'punct' && t.value === '!')) return;
      if (t.kind === 'punct') {
        // `! tagged name`
        this.take();
        this.expectWord('tagged');
        criteria.unmodelled.push(`! tagged ${this.text('a tag name').value}`);
        continue;
      }
      const word = t.value;
      if (word === 'flags') {
        this.take();
        const spec = this.text("TCP flags (e.g. S/SA) or 'any'").value;
        if (spec !== 'any' && !/^[FSRPAUEW]*\/[FSRPAUEW]+$/.test(spec) && !/^[FSRPAUEW]+$/.test(spec)) this.fail("TCP flags like S/SA or 'any'", t);
        rule.tcpFlags = spec;
        continue;
      }
      if (word === 'icmp-type' || word === 'icmp6-type') {
        this.take();
        criteria.icmp = { af: word === 'icmp-type' ? 4 : 6, items: this.icmpspec(word === 'icmp-type' ? 4 : 6) };
        continue;
      }
      if (word === 'keep' || word === 'modulate' || word === 'synproxy') {
        this.take();
        this.expectWord('state');
        rule.state = word;
        if (this.isPunct('(')) this.skipParenthesised();
        continue;
      }
      if (word === 'no') {
        this.take();
        this.expectWord('state');
        rule.state = 'no';
        continue;
      }
      if (UNMODELLED_CRITERIA.has(word)) {
        this.take();
        criteria.unmodelled.push(`${word} ${this.listText()}`);
        continue;
      }
      if (FLAG_OPTIONS.has(word)) {
        this.take();
        continue;
      }
      if (word === 'route-to' || word === 'reply-to' || word === 'dup-to') {
        this.routeOption();
        continue;
      }
      if (ACTION_OPTIONS.has(word)) {
        this.take();
        if (word === 'set') this.text("'prio', 'tos' or 'queue' after set");
        this.listText();
        if (word === 'divert-to' || word === 'divert-packet') {
          if (this.acceptWord('port')) this.listText();
        }
        continue;
      }
      return;
    }
  }

  private routeOption(): void {
    this.take();
    if (this.isPunct('{') || this.isPunct('(')) this.listText();
    else if (this.peek().kind === 'word' || this.peek().kind === 'string') this.take();
  }

  /** An option's argument as text: a word, a string, `op word`, `( … )` or `{ … }`. */
  private listText(): string {
    const t = this.peek();
    if (t.kind === 'punct' && (t.value === '(' || t.value === '{')) {
      const closer = t.value === '(' ? ')' : '}';
      this.open(t.value);
      const parts: string[] = [];
      while (!this.isPunct(closer)) {
        const inner = this.peek();
        if (inner.kind === 'eof') this.fail(`'${closer}'`);
        if (inner.kind === 'punct' && (inner.value === '(' || inner.value === '{')) {
          parts.push(this.listText());
          continue;
        }
        parts.push(this.take().value);
      }
      this.close(closer);
      return `${t.value} ${parts.join(' ')} ${closer}`;
    }
    if (t.kind === 'punct' && ['=', '!=', '<', '<=', '>', '>='].includes(t.value)) {
      this.take();
      return `${t.value} ${this.text(`a value after '${t.value}'`).value}`;
    }
    const value = this.text('a value').value;
    if (this.isPunct('><') || this.isPunct('<>')) {
      const op = this.take().value;
      return `${value} ${op} ${this.text(`a value after '${op}'`).value}`;
    }
    return value;
  }

  private skipParenthesised(): void {
    this.open('(');
    while (!this.isPunct(')')) {
      if (this.peek().kind === 'eof') this.fail("')'");
      if (this.isPunct('(')) {
        this.skipParenthesised();
        continue;
      }
      this.take();
    }
    this.close(')');
  }

  /** What pfctl's filter_consistent refuses. */
  private checkConsistent(rule: PfFilterRule, line: number): void {
    const portsGiven = rule.from.ports !== undefined || rule.to.ports !== undefined;
    if (portsGiven && (rule.protos === undefined || !rule.protos.every((p) => p === 6 || p === 17 || p === 132))) {
      throw new PfSyntaxError(line, "port only applies to tcp/udp: expected 'proto tcp' or 'proto udp' before the port");
    }
    if (rule.icmp !== undefined) {
      const wanted = rule.icmp.af === 4 ? 1 : 58;
      if (rule.protos === undefined || !rule.protos.every((p) => p === wanted)) {
        throw new PfSyntaxError(line, `${rule.icmp.af === 4 ? 'icmp-type' : 'icmp6-type'} only applies to ${rule.icmp.af === 4 ? 'icmp' : 'icmp6'}: expected 'proto ${rule.icmp.af === 4 ? 'icmp' : 'icmp6'}'`);
      }
    }
    if (rule.tcpFlags !== undefined && rule.tcpFlags !== 'any' && rule.protos !== undefined && !rule.protos.includes(6)) {
      throw new PfSyntaxError(line, "flags only applies to tcp: expected 'proto tcp'");
    }
  }
}

/** Interface names: letters then a unit number (en0, utun3, iwm0, bridge100), or a group (egress, lo, tun). */
const INTERFACE_WORD = /^([A-Za-z][A-Za-z0-9_.-]*?)(?::(network|broadcast|peer|0))?$/;

/** What a bare word in a host position means. */
function hostFromWord(word: string): PfHost | undefined {
  if (word === 'any') return { kind: 'any' };
  if (word === 'self') return { kind: 'self' };
  if (word === 'no-route' || word === 'urpf-failed') return { kind: 'route-test', name: word };
  const net: IpNet | undefined = parseNet(word);
  if (net !== undefined) return { kind: 'net', net };
  // Something that looks like an address but does not parse is a typo, not an interface.
  if (/^[\d.]+(\/\d+)?$/.test(word) || /^[0-9a-fA-F:]*:[0-9a-fA-F:.]*(\/\d+)?$/.test(word)) return undefined;
  const m = INTERFACE_WORD.exec(word);
  if (m === null) return undefined;
  // A dotted name is a host name pfctl resolves through DNS at load time.
  if (m[1]!.includes('.')) return m[2] === undefined ? { kind: 'hostname', name: word } : undefined;
  const modifier = m[2] === undefined || m[2] === '0' ? 'address' : (m[2] as 'network' | 'broadcast' | 'peer');
  return { kind: 'interface', name: m[1]!, modifier, dynamic: false };
}

function describe(token: PfToken): string {
  if (token.kind === 'eof') return 'the end of the file';
  if (token.kind === 'nl') return 'the end of the line';
  if (token.kind === 'string') return `"${token.value}"`;
  return `'${token.value}'`;
}

/** A line without its `#` comment (a `#` inside quotes is text). */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') return line.slice(0, i);
  }
  return line;
}
