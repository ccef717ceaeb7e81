/**
 * Syntax phase: the parser, from the scanner's token vector to the AST of ast.ts.
 *
 * A Chevrotain `EmbeddedActionsParser` that builds nodes directly, constructed once per process. The grammar and its
 * decisions mirror starlark-go's hand-written LL(1) parser (parse.go), so that errors come out at the same token
 * with the same wording (`got newline, want primary expression`). Where Chevrotain's automatic lookahead would
 * take a different exit than starlark-go (it stops a loop early where starlark-go would go on and fail inside a
 * sub-parser), explicit checks in the grammar or the message provider below restore starlark-go's message.
 * Parsing stops at the first error, like starlark-go.
 */
import {
  EmbeddedActionsParser,
  LLkLookaheadStrategy,
  type ILookaheadStrategy,
  type IOrAlt,
  type IParserErrorMessageProvider,
  type IToken,
  type TokenType,
} from "chevrotain";
import type * as A from "./ast.ts";
import { StarlarkSyntaxError, type Diagnostic } from "./errors.ts";
import { scan } from "./scanner.ts";
import type { DialectOptions } from "../options.ts";
import {
  allTokens, AND, AssignOpCat, AtomCat, BinOpCat, BREAK, BYTES, COLON, COMMA, CONTINUE, DEF, DOT, ELIF, ELSE, EOF,
  EQ, FLOAT, FOR, IDENT, IF, IN, INDENT, INT, LAMBDA, LBRACE, LBRACK, LOAD, LPAREN, NEWLINE, NOT, OR,
  OUTDENT, PASS, RBRACE, RBRACK, RETURN, RPAREN, SCAN_ERROR, SEMI, STAR, STARSTAR, STRING, UnaryOpCat,
  WHILE, AMP, PIPE, CIRCUMFLEX, terminatesExprList, tokenName, type Token,
} from "./tokens.ts";

/** A syntax error raised by a check in the grammar (as opposed to one Chevrotain detects). */
/**
 * A syntax error at a token. As in starlark-go, whose parser reports the scanner's position after the token it is
 * looking at, the error is placed at the token's end ("got newline" at the start of the next line), unless
 * `atStart`: the few errors about an earlier token (a trailing comma, an `if` without `else`) point at it.
 */
class ParseFail {
  constructor(
    readonly tok: Token,
    readonly message: string,
    readonly atStart = false,
  ) {}
}

const got = (t: IToken) => tokenName(t.tokenType);

/**
 * Chevrotain's generic messages replaced by starlark-go's. `ERR_MSG` strings of an OR are either the thing wanted
 * ("primary expression") or, prefixed with "!", the whole message.
 */
const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
    if (expected === IDENT) return "not an identifier";
    let want = tokenName(expected);
    const prev = previous?.tokenType;
    // The loops of file and suite end where starlark-go would start another statement and fail in it.
    if (expected === EOF) want = "primary expression";
    else if (expected === OUTDENT && actual.tokenType !== EOF) want = "primary expression";
    else if (expected === NEWLINE && (prev === SEMI || prev === RETURN)) want = "primary expression";
    else if (ruleName === "callSuffix" && expected === RPAREN && (actual.tokenType !== EOF || prev === COMMA)) {
      // After a comma starlark-go reads another argument unless `)` follows, even at the end of the file.
      want = prev === LPAREN || prev === COMMA ? "primary expression" : "','";
    } else if ((ruleName === "defStmt" && expected === RPAREN) || (ruleName === "lambda" && expected === COLON)) {
      // starlark-go's parameter loop stops at ':' (but not right after a comma), so `def f(:` wants the ')'; it stops
      // at ')' too, so `lambda)` wants the ':'.
      const stops = actual.tokenType === EOF || (ruleName === "lambda" && actual.tokenType === RPAREN);
      if (!stops && !(ruleName === "defStmt" && actual.tokenType === COLON && prev !== COMMA)) {
        if (prev === LPAREN || prev === COMMA || prev === LAMBDA) return "not an identifier";
        want = "','";
      }
    } else if (ruleName === "loadStmt" && expected === RPAREN && actual.tokenType !== EOF) want = "','";
    else if (ruleName === "sliceSuffix" && expected === RBRACK && prev === COLON) want = "primary expression";
    return `got ${got(actual)}, want ${want}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `got ${got(firstRedundant)}, want end of file`;
  },
  buildNoViableAltMessage({ actual, customUserDescription }) {
    const d = customUserDescription ?? "primary expression";
    return d.startsWith("!") ? d.slice(1) : `got ${got(actual[0]!)}, want ${d}`;
  },
  buildEarlyExitMessage({ actual, customUserDescription }) {
    return `got ${got(actual[0]!)}, want ${customUserDescription ?? "primary expression"}`;
  },
};

const PRIMARY = "primary expression";

function span<T extends object>(node: T, start: A.Pos, end: A.Pos): T & { start: A.Pos; end: A.Pos } {
  const n = node as T & { start: A.Pos; end: A.Pos };
  n.start = start;
  n.end = end;
  return n;
}

// (Defensive `?.`: during Chevrotain's grammar recording, CONSUME returns a placeholder token.)
function ident(t: Token): A.Ident {
  return { kind: "Ident", start: t?.pos, end: t?.end, name: t?.image, binding: null };
}

function binary(op: A.BinaryOp, opPos: A.Pos, x: A.Expr, y: A.Expr): A.BinaryExpr {
  return { kind: "BinaryExpr", start: x.start, end: y.end, op, opPos, x, y };
}

type AlternationOptions = Parameters<ILookaheadStrategy["buildLookaheadForAlternation"]>[0];
type OptionalOptions = Parameters<ILookaheadStrategy["buildLookaheadForOptional"]>[0];

/**
 * Chevrotain's own LL(k) lookahead, but each decision's function is built the first time the parser reaches that
 * decision instead of for every decision when the parser is constructed: a short program pays only for the
 * constructs it uses, which is most of the parser's share of a command's start-up.
 */
class LazyLookahead implements ILookaheadStrategy {
  private readonly llk: ILookaheadStrategy;
  constructor(maxLookahead: number) {
    this.llk = new LLkLookaheadStrategy({ maxLookahead });
  }
  validate(options: Parameters<ILookaheadStrategy["validate"]>[0]): ReturnType<ILookaheadStrategy["validate"]> {
    return this.llk.validate(options);
  }
  buildLookaheadForAlternation(options: AlternationOptions): (orAlts?: IOrAlt<unknown>[]) => number | undefined {
    const llk = this.llk;
    let decide: ((orAlts?: IOrAlt<unknown>[]) => number | undefined) | undefined;
    return function (this: unknown, orAlts) {
      return (decide ??= llk.buildLookaheadForAlternation(options)).call(this, orAlts);
    };
  }
  buildLookaheadForOptional(options: OptionalOptions): () => boolean {
    const llk = this.llk;
    let decide: (() => boolean) | undefined;
    return function (this: unknown) {
      return (decide ??= llk.buildLookaheadForOptional(options)).call(this);
    };
  }
}

class StarlarkParser extends EmbeddedActionsParser {
  /**
   * Grammar validation is most of Chevrotain's start-up cost and only finds mistakes in this file, so it runs in
   * the test suite (`validateGrammar`) and is skipped when a user starts the program.
   */
  constructor(validate = false) {
    super(allTokens, {
      maxLookahead: 1,
      lookaheadStrategy: new LazyLookahead(1),
      recoveryEnabled: false,
      errorMessageProvider: messages,
      skipValidations: !validate,
    });
    this.performSelfAnalysis();
  }

  /** The next token (where an error is reported when the parser gives up). */
  current(): Token {
    return this.LA(1) as Token;
  }
  private la(): Token {
    return this.LA(1) as Token;
  }
  private is(t: TokenType): boolean {
    return this.LA(1).tokenType === t;
  }
  /**
   * Gives up with an error at `tok`. starlark-go's parser has always scanned its lookahead token when it reports an
   * error, so a lexical error in that token is what it reports instead.
   */
  private fail(tok: Token, message: string, atStart = false): never {
    const next = this.LA(1) as Token;
    throw next.tokenType === SCAN_ERROR ? new ParseFail(next, message) : new ParseFail(tok, message, atStart);
  }
  /** Where starlark-go would go on to parse an expression unless the next token is one of two. */
  private wantPrimaryUnless(a: TokenType, b: TokenType): void {
    const t = this.la();
    if (t.tokenType !== a && t.tokenType !== b) this.fail(t, `got ${got(t)}, want ${PRIMARY}`);
  }

  // File = {Statement | newline} eof .
  file = this.RULE("file", (): A.File => {
    const stmts: A.Stmt[] = [];
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(NEWLINE) },
        { ALT: () => this.SUBRULE(this.stmt, { ARGS: [stmts] }) },
      ]);
    });
    const eof = this.CONSUME(EOF) as Token;
    return {
      kind: "File",
      start: stmts.length > 0 ? stmts[0]!.start : eof.pos,
      end: eof.pos,
      filename: "",
      stmts,
      module: null,
    };
  });

  private stmt = this.RULE("stmt", (stmts: A.Stmt[]) => {
    this.OR({
      DEF: [
        { ALT: () => { const s = this.SUBRULE(this.defStmt); this.ACTION(() => stmts.push(s)); } },
        { ALT: () => { const s = this.SUBRULE(this.ifStmt); this.ACTION(() => stmts.push(s)); } },
        { ALT: () => { const s = this.SUBRULE(this.forStmt); this.ACTION(() => stmts.push(s)); } },
        { ALT: () => { const s = this.SUBRULE(this.whileStmt); this.ACTION(() => stmts.push(s)); } },
        { ALT: () => this.SUBRULE(this.simpleStmt, { ARGS: [stmts] }) },
      ],
      ERR_MSG: PRIMARY,
    });
  });

  private defStmt = this.RULE("defStmt", (): A.DefStmt => {
    const def = this.CONSUME(DEF) as Token;
    const name = this.CONSUME(IDENT) as Token;
    this.CONSUME(LPAREN);
    const params = this.SUBRULE(this.params);
    this.CONSUME(RPAREN);
    this.CONSUME(COLON);
    const body = this.SUBRULE(this.suite);
    return this.ACTION(() => ({
      kind: "DefStmt" as const,
      start: def.pos,
      end: body[body.length - 1]!.end,
      name: ident(name),
      params,
      body,
      fn: null,
    }));
  });

  private ifStmt = this.RULE("ifStmt", (): A.IfStmt => {
    const kw = this.CONSUME(IF) as Token;
    const cond = this.SUBRULE(this.test);
    this.CONSUME(COLON);
    const then = this.SUBRULE(this.suite);
    const top: A.IfStmt = this.ACTION(() => ({
      kind: "IfStmt" as const,
      start: kw.pos,
      end: then[then.length - 1]!.end,
      cond,
      then,
      else_: [],
      elif: false,
    }));
    let tail = top;
    this.MANY(() => {
      const kw2 = this.CONSUME(ELIF) as Token;
      const c2 = this.SUBRULE1(this.test);
      this.CONSUME1(COLON);
      const body = this.SUBRULE1(this.suite);
      this.ACTION(() => {
        const elif: A.IfStmt = {
          kind: "IfStmt",
          start: kw2.pos,
          end: body[body.length - 1]!.end,
          cond: c2,
          then: body,
          else_: [],
          elif: true,
        };
        tail.else_ = [elif];
        tail = elif;
      });
    });
    this.OPTION(() => {
      this.CONSUME(ELSE);
      this.CONSUME2(COLON);
      const body = this.SUBRULE2(this.suite);
      this.ACTION(() => {
        tail.else_ = body;
      });
    });
    this.ACTION(() => {
      // Every IfStmt of the chain ends where the whole statement ends.
      const end = lastEnd(tail);
      for (let s: A.IfStmt | undefined = top; s; s = s.else_.length === 1 && s.else_[0]!.kind === "IfStmt" && (s.else_[0] as A.IfStmt).elif ? (s.else_[0] as A.IfStmt) : undefined) {
        s.end = end;
      }
    });
    return top;
  });

  private forStmt = this.RULE("forStmt", (): A.ForStmt => {
    const kw = this.CONSUME(FOR) as Token;
    const vars = this.SUBRULE(this.loopVars);
    this.CONSUME(IN);
    const x = this.SUBRULE(this.expr, { ARGS: [false] });
    this.CONSUME(COLON);
    const body = this.SUBRULE(this.suite);
    return this.ACTION(() => ({ kind: "ForStmt" as const, start: kw.pos, end: body[body.length - 1]!.end, vars, x, body }));
  });

  private whileStmt = this.RULE("whileStmt", (): A.WhileStmt => {
    const kw = this.CONSUME(WHILE) as Token;
    const cond = this.SUBRULE(this.test);
    this.CONSUME(COLON);
    const body = this.SUBRULE(this.suite);
    return this.ACTION(() => ({ kind: "WhileStmt" as const, start: kw.pos, end: body[body.length - 1]!.end, cond, body }));
  });

  // Suite = [newline indent {Statement} outdent] | SimpleStmt .
  private suite = this.RULE("suite", (): A.Stmt[] => {
    const stmts: A.Stmt[] = [];
    this.OR({
      DEF: [
        {
          ALT: () => {
            this.CONSUME(NEWLINE);
            this.CONSUME(INDENT);
            this.MANY(() => this.SUBRULE(this.stmt, { ARGS: [stmts] }));
            this.CONSUME(OUTDENT);
          },
        },
        { ALT: () => this.SUBRULE(this.simpleStmt, { ARGS: [stmts] }) },
      ],
      ERR_MSG: PRIMARY,
    });
    return stmts;
  });

  // SimpleStmt = SmallStmt {';' SmallStmt} [';'] '\n' .   (the newline may be missing at EOF)
  private simpleStmt = this.RULE("simpleStmt", (stmts: A.Stmt[]) => {
    const s = this.SUBRULE(this.smallStmt);
    this.ACTION(() => stmts.push(s));
    let more = true;
    this.MANY({
      GATE: () => more,
      DEF: () => {
        this.CONSUME(SEMI);
        this.OR([
          {
            GATE: () => !this.is(NEWLINE) && !this.is(EOF),
            ALT: () => {
              const s2 = this.SUBRULE1(this.smallStmt);
              this.ACTION(() => stmts.push(s2));
            },
          },
          {
            ALT: () =>
              this.ACTION(() => {
                more = false;
                if (!this.is(NEWLINE) && !this.is(EOF)) this.fail(this.la(), `got ${got(this.la())}, want ${PRIMARY}`);
              }),
          },
        ]);
      },
    });
    this.OR1({
      DEF: [{ ALT: () => this.CONSUME(NEWLINE) }, { GATE: () => this.is(EOF), ALT: () => {} }],
      ERR_MSG: "newline",
    });
  });

  private smallStmt = this.RULE("smallStmt", (): A.Stmt => {
    return this.OR({
      DEF: (this.smallStmtAlts ??= [
        { ALT: () => this.SUBRULE(this.returnStmt) },
        { ALT: () => this.SUBRULE(this.branchStmt) },
        { ALT: () => this.SUBRULE(this.loadStmt) },
        { ALT: () => this.SUBRULE(this.exprStmt) },
      ]),
      ERR_MSG: PRIMARY,
    });
  });
  private smallStmtAlts: { ALT: () => A.Stmt }[] | undefined;

  private returnStmt = this.RULE("returnStmt", (): A.ReturnStmt => {
    const kw = this.CONSUME(RETURN) as Token;
    const result = this.OPTION(() => this.SUBRULE(this.expr, { ARGS: [false] })) ?? null;
    this.ACTION(() => {
      const t = this.la();
      if (!result && t.tokenType !== EOF && t.tokenType !== NEWLINE && t.tokenType !== SEMI) {
        this.fail(t, `got ${got(t)}, want ${PRIMARY}`);
      }
    });
    return this.ACTION(() => ({ kind: "ReturnStmt" as const, start: kw.pos, end: result ? result.end : kw.end, result }));
  });

  private branchStmt = this.RULE("branchStmt", (): A.BranchStmt => {
    const t = this.OR([
      { ALT: () => this.CONSUME(BREAK) },
      { ALT: () => this.CONSUME(CONTINUE) },
      { ALT: () => this.CONSUME(PASS) },
    ]) as Token;
    return this.ACTION(() => ({
      kind: "BranchStmt" as const,
      start: t.pos,
      end: t.end,
      token: t.image as A.BranchStmt["token"],
    }));
  });

  private loadStmt = this.RULE("loadStmt", (): A.LoadStmt => {
    const kw = this.CONSUME(LOAD) as Token;
    const lparen = this.CONSUME(LPAREN) as Token;
    this.ACTION(() => {
      if (!this.is(STRING)) this.fail(this.la(), "first operand of load statement must be a string literal");
    });
    const mod = this.CONSUME(STRING) as Token;
    const from: A.Ident[] = [];
    const to: A.Ident[] = [];
    let more = true;
    this.MANY({
      GATE: () => more,
      DEF: () => {
        this.CONSUME(COMMA);
        this.OR([
          {
            ALT: () => {
              const s = this.CONSUME1(STRING) as Token;
              this.ACTION(() => {
                const id = quotedIdent(s);
                from.push(id);
                to.push({ ...id });
              });
            },
          },
          {
            ALT: () => {
              const local = this.CONSUME(IDENT) as Token;
              this.ACTION(() => {
                if (!this.is(EQ)) {
                  const n = local.image;
                  this.fail(this.la(), `load operand must be "${n}" or ${n}="originalname" (want '=' after ${n})`);
                }
              });
              this.CONSUME(EQ);
              this.ACTION(() => {
                if (!this.is(STRING)) {
                  this.fail(this.la(), `original name of loaded symbol must be quoted: ${local.image}="originalname"`);
                }
              });
              const orig = this.CONSUME2(STRING) as Token;
              this.ACTION(() => {
                to.push(ident(local));
                from.push(quotedIdent(orig));
              });
            },
          },
          {
            ALT: () =>
              this.ACTION(() => {
                more = false;
                if (!this.is(RPAREN)) this.fail(this.la(), `load operand must be "name" or localname="name" (got ${got(this.la())})`);
              }),
          },
        ]);
      },
    });
    const rparen = this.CONSUME(RPAREN) as Token;
    return this.ACTION(() => {
      if (to.length === 0) this.fail(lparen, "load statement must import at least 1 symbol", true);
      const module = { kind: "Literal" as const, start: mod.pos, end: mod.end, type: "string" as const, value: mod.value as string, raw: mod.image };
      return { kind: "LoadStmt" as const, start: kw.pos, end: rparen.end, module, from, to };
    });
  });

  // An expression statement or an assignment.
  private exprStmt = this.RULE("exprStmt", (): A.Stmt => {
    const x = this.SUBRULE(this.expr, { ARGS: [false] });
    let result: A.Stmt | undefined;
    this.OPTION(() => {
      const op = this.CONSUME(AssignOpCat) as Token;
      const rhs = this.SUBRULE1(this.expr, { ARGS: [false] });
      this.ACTION(() => {
        result = { kind: "AssignStmt", start: x.start, end: rhs.end, op: op.image as A.AssignOp, opPos: op.pos, lhs: x, rhs };
      });
    });
    return this.ACTION(() => result ?? { kind: "ExprStmt" as const, start: x.start, end: x.end, x });
  });

  // Parameters of def or lambda, up to (not including) the closing ')' or ':'.
  private params = this.RULE("params", (): A.Param[] => {
    const params: A.Param[] = [];
    let more = true;
    this.MANY({
      GATE: () => more,
      DEF: () => {
        const p = this.SUBRULE(this.param);
        this.ACTION(() => params.push(p));
        this.OR([
          {
            ALT: () => {
              this.CONSUME(COMMA);
              // After a comma starlark-go reads another parameter unless `)` follows: `lambda x, :` is an error.
              this.ACTION(() => {
                const t = this.la().tokenType;
                if (t !== RPAREN && t !== IDENT && t !== STAR && t !== STARSTAR) this.fail(this.la(), "not an identifier");
              });
            },
          },
          { ALT: () => this.ACTION(() => (more = false)) },
        ]);
      },
    });
    return params;
  });

  private param = this.RULE("param", (): A.Param => {
    return this.OR({
      DEF: [
        {
          ALT: () => {
            const star = this.CONSUME(STAR) as Token;
            const name = this.OPTION(() => this.CONSUME(IDENT)) as Token | undefined;
            return this.ACTION(() => {
              const id = name ? ident(name) : null;
              return { kind: "Param" as const, start: star.pos, end: id ? id.end : star.end, type: "star" as const, name: id, default: null };
            });
          },
        },
        {
          ALT: () => {
            const star = this.CONSUME(STARSTAR) as Token;
            const name = this.CONSUME1(IDENT) as Token;
            return this.ACTION(() => {
              const id = ident(name);
              return { kind: "Param" as const, start: star.pos, end: id.end, type: "starstar" as const, name: id, default: null };
            });
          },
        },
        {
          ALT: () => {
            const name = this.CONSUME2(IDENT) as Token;
            let eq: Token | undefined;
            const dflt = this.OPTION1(() => {
              eq = this.CONSUME(EQ) as Token;
              return this.SUBRULE(this.test);
            });
            return this.ACTION(() => {
              const id = ident(name);
              return dflt
                ? { kind: "Param" as const, start: id.start, end: dflt.end, type: "optional" as const, name: id, default: dflt, eq: eq!.pos }
                : { kind: "Param" as const, start: id.start, end: id.end, type: "required" as const, name: id, default: null };
            });
          },
        },
      ],
      ERR_MSG: "!not an identifier",
    });
  });

  // Expression = Test {',' Test} [','] : a tuple when there is a comma. Outside parentheses a trailing comma is an
  // error ("unparenthesized tuple with trailing comma").
  private expr = this.RULE("expr", (inParens: boolean): A.Expr => {
    const x = this.SUBRULE(this.test);
    let elts: A.Expr[] | undefined;
    let end: A.Pos | undefined;
    let more = true;
    this.MANY({
      GATE: () => more,
      DEF: () => {
        const comma = this.CONSUME(COMMA) as Token;
        this.ACTION(() => {
          elts ??= [x];
          end = comma.end;
        });
        this.OR([
          {
            GATE: () => !terminatesExprList(this.LA(1).tokenType),
            ALT: () => {
              const y = this.SUBRULE1(this.test);
              this.ACTION(() => {
                elts!.push(y);
                end = y.end;
              });
            },
          },
          {
            ALT: () =>
              this.ACTION(() => {
                more = false;
                const t = this.la();
                if (!terminatesExprList(t.tokenType)) this.fail(t, `got ${got(t)}, want ${PRIMARY}`);
                if (!inParens) this.fail(comma, "unparenthesized tuple with trailing comma", true);
              }),
          },
        ]);
      },
    });
    return this.ACTION(() => (elts ? { kind: "TupleExpr" as const, start: x.start, end: end!, elts } : x));
  });

  // Test = LambdaExpr | IfExpr | OrExpr .
  private test = this.RULE("test", (): A.Expr => {
    return this.OR({ DEF: (this.testAlts ??= this.makeTestAlts()), ERR_MSG: PRIMARY });
  });

  // Built once, like primaryAlts: `test` runs for every expression.
  private testAlts: { ALT: () => A.Expr }[] | undefined;
  private makeTestAlts(): { ALT: () => A.Expr }[] {
    return [
      { ALT: () => this.SUBRULE(this.lambda, { ARGS: [true] }) },
      {
        ALT: () => {
          const x = this.SUBRULE(this.orExpr);
          let result = x;
          this.OPTION(() => {
            const ifTok = this.CONSUME(IF) as Token;
            const cond = this.SUBRULE1(this.orExpr);
            this.ACTION(() => {
              if (!this.is(ELSE)) this.fail(ifTok, "conditional expression without else clause", true);
            });
            this.CONSUME(ELSE);
            const f = this.SUBRULE(this.test);
            this.ACTION(() => {
              result = { kind: "CondExpr", start: x.start, end: f.end, cond, then: x, else_: f };
            });
          });
          return result;
        },
      },
    ];
  }

  // TestNoCond = LambdaExpr(no conditional body) | OrExpr : the operand of a comprehension's `if`.
  private testNoCond = this.RULE("testNoCond", (): A.Expr => {
    return this.OR({
      DEF: [
        { ALT: () => this.SUBRULE(this.lambda, { ARGS: [false] }) },
        { ALT: () => this.SUBRULE(this.orExpr) },
      ],
      ERR_MSG: PRIMARY,
    });
  });

  private lambda = this.RULE("lambda", (allowCond: boolean): A.LambdaExpr => {
    const kw = this.CONSUME(LAMBDA) as Token;
    const params = this.SUBRULE(this.params);
    this.CONSUME(COLON);
    const body = this.OR([
      { GATE: () => allowCond, ALT: () => this.SUBRULE(this.test) },
      { ALT: () => this.SUBRULE(this.testNoCond) },
    ]);
    return this.ACTION(() => ({ kind: "LambdaExpr" as const, start: kw.pos, end: body.end, params, body, fn: null }));
  });

  // OrExpr: every binary operator (`or` ... `* / // %`) and the `not` prefix, parsed flat in one rule (a chain
  // of operands and operators) and then shaped by precedence. One rule instead of one per precedence level keeps
  // the rule-call depth of every expression small, which is most of the parser's cost. Comparisons do not
  // associate: a second comparison in the same chain is reported as soon as it is met (as starlark-go does).
  private orExpr = this.RULE("orExpr", (): A.Expr => {
    const xs: A.Expr[] = [];
    const ops: Token[] = [];
    const names: A.BinaryOp[] = [];
    let nots: Token[][] | undefined; // `not` prefixes per operand, when there are any
    let cmp: A.BinaryOp | undefined;
    const addNot = (t: Token) => {
      nots ??= [];
      (nots[xs.length] ??= []).push(t);
    };
    this.MANY(() => {
      const t = this.CONSUME(NOT) as Token;
      this.ACTION(() => addNot(t));
    });
    const first = this.SUBRULE(this.primaryWithSuffix);
    this.ACTION(() => xs.push(first));
    this.MANY1(() => {
      let opName: A.BinaryOp = "+";
      let errTok: Token | undefined; // where starlark-go reports a bad operator: after `in` for `not in`
      const opTok = this.OR([
        {
          ALT: () => {
            const t = this.CONSUME(BinOpCat) as Token;
            this.ACTION(() => (opName = t.image as A.BinaryOp));
            return t;
          },
        },
        { ALT: () => this.CONSUME(AND) },
        { ALT: () => this.CONSUME(OR) },
        {
          ALT: () => {
            const t = this.CONSUME1(NOT) as Token;
            const inTok = this.CONSUME(IN) as Token;
            this.ACTION(() => {
              opName = "not in";
              errTok = inTok;
            });
            return t;
          },
        },
      ]) as Token;
      this.ACTION(() => {
        if (opTok.tokenType === AND) opName = "and";
        else if (opTok.tokenType === OR) opName = "or";
        const prec = PREC[opName]!;
        if (prec === CMP) {
          if (cmp !== undefined) throw new ParseFail(errTok ?? opTok, `${cmp} does not associate with ${opName} (use parens)`); // before the next token is scanned
          cmp = opName;
        } else if (prec < CMP) cmp = undefined;
        ops.push(opTok);
        names.push(opName);
      });
      // `not` may start an operand of `and`/`or` only: `a == not b` is an error, as in starlark-go.
      this.MANY2(() => {
        const t = this.CONSUME2(NOT) as Token;
        this.ACTION(() => {
          if (PREC[names[names.length - 1]!]! >= CMP) throw new ParseFail(t, `got not, want ${PRIMARY}`); // `not` is the lookahead
          addNot(t);
        });
      });
      const y = this.SUBRULE1(this.primaryWithSuffix);
      this.ACTION(() => xs.push(y));
    });
    return this.ACTION(() => (names.length === 0 && !nots ? first : climb(xs, ops, names, nots)));
  });

  // Unary + - ~ bind tighter than any binary operator and apply to a whole primary with its suffixes.
  private primaryWithSuffix = this.RULE("primaryWithSuffix", (): A.Expr => {
    let x = this.OR({ DEF: (this.primaryAlts ??= this.makePrimaryAlts()), ERR_MSG: PRIMARY });
    this.MANY(() => {
      this.OR1([
        {
          ALT: () => {
            const dot = this.CONSUME(DOT) as Token;
            const name = this.CONSUME(IDENT) as Token;
            this.ACTION(() => {
              const id = ident(name);
              x = { kind: "DotExpr", start: x.start, end: id.end, x, name: id, dotPos: dot.pos };
            });
          },
        },
        { ALT: () => (x = this.SUBRULE(this.sliceSuffix, { ARGS: [x] })) },
        { ALT: () => (x = this.SUBRULE(this.callSuffix, { ARGS: [x] })) },
      ]);
    });
    return x;
  });

  // The alternatives of a primary, built once: they capture no per-call state, and allocating them on every call
  // is a large part of Chevrotain's cost on the hottest rule.
  private primaryAlts: { ALT: () => A.Expr }[] | undefined;
  private makePrimaryAlts(): { ALT: () => A.Expr }[] {
    return [
      {
        ALT: () => {
          const op = this.CONSUME(UnaryOpCat) as Token;
          const x = this.SUBRULE1(this.primaryWithSuffix);
          return this.ACTION(() => ({ kind: "UnaryExpr" as const, start: op.pos, end: x.end, op: op.image as A.UnaryOp, x }));
        },
      },
      { ALT: () => atom(this.CONSUME(AtomCat) as Token) },
      { ALT: () => this.SUBRULE(this.listExpr) },
      { ALT: () => this.SUBRULE(this.dictExpr) },
      { ALT: () => this.SUBRULE(this.parenExpr) },
    ];
  }

  private parenExpr = this.RULE("parenExpr", (): A.Expr => {
    const lp = this.CONSUME(LPAREN) as Token;
    return this.OR({
      DEF: [
        {
          ALT: () => {
            const rp = this.CONSUME(RPAREN) as Token;
            return this.ACTION(() => ({ kind: "TupleExpr" as const, start: lp.pos, end: rp.end, elts: [] }));
          },
        },
        {
          ALT: () => {
            const x = this.SUBRULE(this.expr, { ARGS: [true] });
            const rp = this.CONSUME1(RPAREN) as Token;
            return this.ACTION(() => ({ kind: "ParenExpr" as const, start: lp.pos, end: rp.end, x }));
          },
        },
      ],
      ERR_MSG: PRIMARY,
    });
  });

  private listExpr = this.RULE("listExpr", (): A.Expr => {
    const lb = this.CONSUME(LBRACK) as Token;
    return this.OR({
      DEF: [
        {
          ALT: () => {
            const rb = this.CONSUME(RBRACK) as Token;
            return this.ACTION(() => ({ kind: "ListExpr" as const, start: lb.pos, end: rb.end, elts: [] }));
          },
        },
        {
          ALT: () => {
            const x = this.SUBRULE(this.test);
            return this.OR1({
              DEF: [
                { ALT: () => this.SUBRULE(this.comprehension, { ARGS: [lb, x, false] }) },
                {
                  ALT: () => {
                    const elts = [x];
                    this.SUBRULE(this.moreElems, { ARGS: [elts] });
                    const rb = this.CONSUME1(RBRACK) as Token;
                    return this.ACTION(() => ({ kind: "ListExpr" as const, start: lb.pos, end: rb.end, elts }));
                  },
                },
              ],
              ERR_MSG: "']'",
            });
          },
        },
      ],
      ERR_MSG: PRIMARY,
    });
  });

  // {',' Test} [','] inside brackets (trailing comma allowed).
  private moreElems = this.RULE("moreElems", (elts: A.Expr[]) => {
    let more = true;
    this.MANY({
      GATE: () => more,
      DEF: () => {
        this.CONSUME(COMMA);
        this.OR([
          {
            GATE: () => !terminatesExprList(this.LA(1).tokenType),
            ALT: () => {
              const y = this.SUBRULE(this.test);
              this.ACTION(() => elts.push(y));
            },
          },
          {
            ALT: () =>
              this.ACTION(() => {
                more = false;
                const t = this.la();
                if (!terminatesExprList(t.tokenType)) this.fail(t, `got ${got(t)}, want ${PRIMARY}`);
              }),
          },
        ]);
      },
    });
  });

  private dictExpr = this.RULE("dictExpr", (): A.Expr => {
    const lb = this.CONSUME(LBRACE) as Token;
    return this.OR({
      DEF: [
        {
          ALT: () => {
            const rb = this.CONSUME(RBRACE) as Token;
            return this.ACTION(() => ({ kind: "DictExpr" as const, start: lb.pos, end: rb.end, entries: [] }));
          },
        },
        {
          ALT: () => {
            const e = this.SUBRULE(this.dictEntry);
            return this.OR1({
              DEF: [
                { ALT: () => this.SUBRULE(this.comprehension, { ARGS: [lb, e, true] }) },
                {
                  ALT: () => {
                    const entries = [e];
                    let more = true;
                    this.MANY({
                      GATE: () => more,
                      DEF: () => {
                        this.CONSUME(COMMA);
                        this.OR2([
                          {
                            ALT: () => {
                              const e2 = this.SUBRULE1(this.dictEntry);
                              this.ACTION(() => entries.push(e2));
                            },
                          },
                          {
                            ALT: () =>
                              this.ACTION(() => {
                                more = false;
                                const t = this.la();
                                if (t.tokenType !== RBRACE) this.fail(t, `got ${got(t)}, want ${PRIMARY}`);
                              }),
                          },
                        ]);
                      },
                    });
                    const rb = this.CONSUME1(RBRACE) as Token;
                    return this.ACTION(() => ({ kind: "DictExpr" as const, start: lb.pos, end: rb.end, entries }));
                  },
                },
              ],
              ERR_MSG: "'}'",
            });
          },
        },
      ],
      ERR_MSG: PRIMARY,
    });
  });

  private dictEntry = this.RULE("dictEntry", (): A.DictEntry => {
    const k = this.SUBRULE(this.test);
    this.CONSUME(COLON);
    const v = this.SUBRULE1(this.test);
    return this.ACTION(() => ({ kind: "DictEntry" as const, start: k.start, end: v.end, key: k, value: v }));
  });

  // The clauses of a comprehension after its body, and the closing bracket.
  private comprehension = this.RULE(
    "comprehension",
    (open: Token, body: A.Expr | A.DictEntry, curly: boolean): A.Comprehension => {
      const clauses: (A.ForClause | A.IfClause)[] = [];
      this.AT_LEAST_ONE({
        DEF: () => {
          this.OR([
            {
              ALT: () => {
                const kw = this.CONSUME(FOR) as Token;
                const vars = this.SUBRULE(this.loopVars);
                this.CONSUME(IN);
                // Like Python 3, the operand may not be a conditional, a lambda or an unparenthesized tuple.
                const x = this.SUBRULE(this.orExpr);
                this.ACTION(() => clauses.push({ kind: "ForClause", start: kw.pos, end: x.end, vars, x }));
              },
            },
            {
              // The first clause is a `for`: Chevrotain's lookahead sees FOR at the call site.
              ALT: () => {
                const kw = this.CONSUME(IF) as Token;
                const cond = this.SUBRULE(this.testNoCond);
                this.ACTION(() => clauses.push({ kind: "IfClause", start: kw.pos, end: cond.end, cond }));
              },
            },
          ]);
        },
        ERR_MSG: "for",
      });
      const close = this.OR1({
        DEF: [
          { GATE: () => !curly, ALT: () => this.CONSUME(RBRACK) },
          { GATE: () => curly, ALT: () => this.CONSUME(RBRACE) },
        ],
        // Another clause could have come here too, as starlark-go's message says.
        ERR_MSG: curly ? "'}', for, or if" : "']', for, or if",
      }) as Token;
      return this.ACTION(() => ({ kind: "Comprehension" as const, start: open.pos, end: close.end, curly, body, clauses }));
    },
  );

  // The variables of `for` (statement or clause): primaries with suffixes, so that `in` is not consumed.
  private loopVars = this.RULE("loopVars", (): A.Expr => {
    const v = this.SUBRULE(this.primaryWithSuffix);
    let elts: A.Expr[] | undefined;
    let end: A.Pos | undefined;
    let more = true;
    this.MANY({
      GATE: () => more,
      DEF: () => {
        const comma = this.CONSUME(COMMA) as Token;
        this.ACTION(() => {
          elts ??= [v];
          end = comma.end;
        });
        this.OR([
          {
            GATE: () => !terminatesExprList(this.LA(1).tokenType),
            ALT: () => {
              const y = this.SUBRULE1(this.primaryWithSuffix);
              this.ACTION(() => {
                elts!.push(y);
                end = y.end;
              });
            },
          },
          {
            ALT: () =>
              this.ACTION(() => {
                more = false;
                const t = this.la();
                if (!terminatesExprList(t.tokenType)) this.fail(t, `got ${got(t)}, want ${PRIMARY}`);
              }),
          },
        ]);
      },
    });
    return this.ACTION(() => (elts ? { kind: "TupleExpr" as const, start: v.start, end: end!, elts } : v));
  });

  private callSuffix = this.RULE("callSuffix", (fn: A.Expr): A.CallExpr => {
    const lp = this.CONSUME(LPAREN) as Token;
    const args: A.Arg[] = [];
    let more = true;
    this.MANY({
      GATE: () => more,
      DEF: () => {
        const a = this.SUBRULE(this.arg);
        this.ACTION(() => args.push(a));
        this.OR([
          { ALT: () => this.CONSUME(COMMA) },
          { ALT: () => this.ACTION(() => (more = false)) },
        ]);
      },
    });
    const rp = this.CONSUME(RPAREN) as Token;
    return this.ACTION(() => ({ kind: "CallExpr" as const, start: fn.start, end: rp.end, fn, args, lparen: lp.pos }));
  });

  private arg = this.RULE("arg", (): A.Arg => {
    return this.OR({
      DEF: [
        {
          ALT: () => {
            const op = this.CONSUME(STAR) as Token;
            const x = this.SUBRULE(this.test);
            return this.ACTION(() => ({ kind: "Arg" as const, start: op.pos, end: x.end, type: "star" as const, name: null, value: x }));
          },
        },
        {
          ALT: () => {
            const op = this.CONSUME(STARSTAR) as Token;
            const x = this.SUBRULE1(this.test);
            return this.ACTION(() => ({ kind: "Arg" as const, start: op.pos, end: x.end, type: "starstar" as const, name: null, value: x }));
          },
        },
        {
          ALT: () => {
            // Parse `test = test` and then check the first is a name, to stay LL(1) (as starlark-go does).
            const x = this.SUBRULE2(this.test);
            let result: A.Arg | undefined;
            this.OPTION(() => {
              this.ACTION(() => {
                if (x.kind !== "Ident") this.fail(this.la(), "keyword argument must have form name=expr");
              });
              this.CONSUME(EQ);
              const y = this.SUBRULE3(this.test);
              this.ACTION(() => {
                result = { kind: "Arg", start: x.start, end: y.end, type: "named", name: x as A.Ident, value: y };
              });
            });
            return this.ACTION(() => result ?? { kind: "Arg" as const, start: x.start, end: x.end, type: "positional" as const, name: null, value: x });
          },
        },
      ],
      ERR_MSG: PRIMARY,
    });
  });

  // x[i], x[lo:hi:step]
  private sliceSuffix = this.RULE("sliceSuffix", (x: A.Expr): A.Expr => {
    const lb = this.CONSUME(LBRACK) as Token;
    return this.OR({
      DEF: [
        { ALT: () => this.SUBRULE(this.sliceRest, { ARGS: [x, lb, null] }) },
        {
          ALT: () => {
            const lo = this.SUBRULE(this.expr, { ARGS: [false] });
            return this.OR1({
              DEF: [
                {
                  ALT: () => {
                    const rb = this.CONSUME(RBRACK) as Token;
                    return this.ACTION(() => ({ kind: "IndexExpr" as const, start: x.start, end: rb.end, x, y: lo, lbrack: lb.pos }));
                  },
                },
                { ALT: () => this.SUBRULE1(this.sliceRest, { ARGS: [x, lb, lo] }) },
              ],
              ERR_MSG: "']'",
            });
          },
        },
      ],
      ERR_MSG: PRIMARY,
    });
  });

  // The part of a slice from its first ':' to ']'.
  private sliceRest = this.RULE("sliceRest", (x: A.Expr, lb: Token, lo: A.Expr | null): A.SliceExpr => {
    this.CONSUME(COLON);
    let hi: A.Expr | null = null;
    let step: A.Expr | null = null;
    this.OR({
      DEF: [
        { GATE: () => !this.is(COLON) && !this.is(RBRACK), ALT: () => (hi = this.SUBRULE(this.test)) },
        { ALT: () => this.ACTION(() => this.wantPrimaryUnless(COLON, RBRACK)) },
      ],
    });
    this.OPTION(() => {
      this.CONSUME1(COLON);
      this.OR1({
        DEF: [
          { GATE: () => !this.is(RBRACK), ALT: () => (step = this.SUBRULE1(this.test)) },
          { ALT: () => this.ACTION(() => this.wantPrimaryUnless(RBRACK, RBRACK)) },
        ],
      });
    });
    const rb = this.CONSUME(RBRACK) as Token;
    return this.ACTION(() => ({ kind: "SliceExpr" as const, start: x.start, end: rb.end, x, lo, hi, step, lbrack: lb.pos }));
  });
}

const CMP = 4;
/** Binding strength of the operators parsed by orExpr (starlark-go's precedence table; `not` is 3). */
const PREC: Record<string, number> = {
  or: 1, and: 2,
  "==": CMP, "!=": CMP, "<": CMP, ">": CMP, "<=": CMP, ">=": CMP, in: CMP, "not in": CMP,
  "|": 5, "^": 6, "&": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "//": 10, "%": 10,
};

/**
 * Builds the tree of a flat chain `x0 op0 x1 op1 x2 ...` by precedence climbing; binary operators associate to
 * the left. `nots[i]` are the `not` prefixes of operand i: they apply to the comparison-or-tighter expression
 * starting there.
 */
function climb(xs: A.Expr[], ops: Token[], names: A.BinaryOp[], nots: Token[][] | undefined): A.Expr {
  let i = 0; // the next operator; xs[i] is the operand before it
  const parse = (minPrec: number): A.Expr => {
    let x: A.Expr;
    const ns = nots?.[i];
    if (ns && ns.length > 0) {
      nots![i] = [];
      x = parse(CMP);
      for (let k = ns.length - 1; k >= 0; k--) x = { kind: "UnaryExpr", start: ns[k]!.pos, end: x.end, op: "not", x };
    } else x = xs[i]!;
    while (i < names.length && PREC[names[i]!]! >= minPrec) {
      const k = i++;
      const y = parse(PREC[names[k]!]! + 1); // tighter operators bind the right operand first
      x = binary(names[k]!, ops[k]!.pos, x, y);
    }
    return x;
  };
  return parse(0);
}

/** An identifier or literal node from its token. */
function atom(t: Token): A.Expr {
  const tt = t?.tokenType;
  if (tt === IDENT) return ident(t);
  return literal(t, tt === INT ? "int" : tt === FLOAT ? "float" : tt === STRING ? "string" : "bytes");
}

function literal(t: Token, type: A.LiteralKind): A.Literal {
  return { kind: "Literal", start: t?.pos, end: t?.end, type, value: t?.value as number | bigint | string, raw: t?.image };
}

/** The identifier named by a string operand of load, positioned just inside its opening quote. */
function quotedIdent(t: Token): A.Ident {
  const q = t.image.indexOf(t.image.includes('"') ? '"' : "'");
  return {
    kind: "Ident",
    start: { line: t.pos.line, col: t.pos.col + Math.max(q, 0) + 1 },
    end: t.end,
    name: t.value as string,
    binding: null,
  };
}

function lastEnd(s: A.IfStmt): A.Pos {
  const body = s.else_.length > 0 ? s.else_ : s.then;
  return body[body.length - 1]!.end;
}

let parser: StarlarkParser | undefined;

/** Builds a parser with Chevrotain's grammar validations on; throws when the grammar has a mistake. */
export function validateGrammar(): void {
  new StarlarkParser(true);
}

/** The process-wide parser (Chevrotain's grammar analysis is done once). */
function getParser(): StarlarkParser {
  return (parser ??= new StarlarkParser());
}

/**
 * Parses a whole file. Throws StarlarkSyntaxError holding the first error (scanner or parser, whichever comes first
 * in the token stream); never another kind of exception for bad input.
 */
export function parseFile(filename: string, source: string, options?: DialectOptions): A.File {
  void options; // the dialect options only matter to the resolver; accepted here for the public signature
  const { tokens, error } = scan(source);
  const p = getParser();
  p.input = tokens;
  let diag: Diagnostic | undefined;
  let file: A.File | undefined;
  try {
    file = p.file();
  } catch (e) {
    if (e instanceof ParseFail) diag = diagnosticAt(filename, e.tok, e.message, error, e.atStart);
    else if (e instanceof RangeError) {
      // The JS stack ran out in a pathologically nested expression: report it where the parser got to.
      diag = diagnosticAt(filename, p.current(), "expression nested too deeply", error, true);
    } else throw e;
  }
  if (!diag && p.errors.length > 0) {
    const err = p.errors[0]!;
    diag = diagnosticAt(filename, err.token as Token, err.message, error);
  }
  p.input = [];
  if (diag) {
    // A bracket left open swallows the rest of the file, so the parser fails far from the mistake: say where it opened.
    const open = unclosedBracket(tokens);
    if (open && (open.pos.line < diag.pos.line || (open.pos.line === diag.pos.line && open.pos.col < diag.pos.col))) {
      diag.note = { pos: { file: filename, line: open.pos.line, col: open.pos.col }, message: `this ${tokenName(open.tokenType)} is never closed` };
    }
    throw new StarlarkSyntaxError([diag], source);
  }
  file!.filename = filename;
  return file!;
}

const CLOSER_OF = new Map<TokenType, TokenType>([
  [LPAREN, RPAREN],
  [LBRACK, RBRACK],
  [LBRACE, RBRACE],
]);

/** The innermost opening bracket that no bracket closes by the end of the file (the first to close), if any. */
function unclosedBracket(tokens: readonly Token[]): Token | undefined {
  const stack: Token[] = [];
  for (const t of tokens) {
    if (CLOSER_OF.has(t.tokenType)) stack.push(t);
    else if (stack.length && CLOSER_OF.get(stack[stack.length - 1]!.tokenType) === t.tokenType) stack.pop();
    else if (t.tokenType === RPAREN || t.tokenType === RBRACK || t.tokenType === RBRACE) return undefined; // mismatched: not a missing closer
  }
  return stack[stack.length - 1];
}

function diagnosticAt(
  file: string,
  tok: Token,
  message: string,
  scanError: { pos: A.Pos; message: string } | null,
  atStart = false,
): Diagnostic {
  if (tok.tokenType === SCAN_ERROR && scanError) {
    return { pos: { file, line: scanError.pos.line, col: scanError.pos.col }, message: scanError.message };
  }
  const at = atStart ? tok.pos : tok.end;
  return { pos: { file, line: at.line, col: at.col }, message };
}
