/**
 * Syntax phase: the token vocabulary shared by the scanner and the Chevrotain parser.
 *
 * The scanner (scanner.ts) is hand-written and produces Chevrotain `IToken`s of these types; no Chevrotain lexer is
 * involved. `tokenName` gives starlark-go's wording for a token in error messages (`got ')', want newline`).
 */
import { createToken, type IToken, type TokenType } from "chevrotain";
import type { Pos } from "./ast.ts";

/**
 * A scanned token, in the shape Chevrotain's parser reads (`tokenType`, `tokenTypeIdx`, `image`, offsets). `pos` and
 * `end` (exclusive) are shared with the AST; `value` holds a literal's decoded value (see ast.ts), else null.
 */
export class Token implements IToken {
  readonly tokenTypeIdx: number;
  constructor(
    readonly tokenType: TokenType,
    readonly image: string,
    readonly startOffset: number,
    readonly endOffset: number,
    readonly pos: Pos,
    readonly end: Pos,
    readonly value: number | bigint | string | null,
    readonly index: number,
  ) {
    this.tokenTypeIdx = tokenType.tokenTypeIdx!;
  }
}

const NA = /NA/; // never matched: these token types are produced by the hand-written scanner only

function tok(name: string, label: string, categories?: TokenType[]): TokenType {
  return categories ? createToken({ name, pattern: NA, label, categories }) : createToken({ name, pattern: NA, label });
}

// Categories let the parser CONSUME "any assignment operator" and friends in one step.
export const AssignOpCat = createToken({ name: "AssignOp", pattern: NA });
/** The binary operators from comparisons to multiplication (not `and`/`or`, nor `not in`, which is two tokens). */
export const BinOpCat = createToken({ name: "BinOp", pattern: NA });
/** Identifiers and literals: the one-token primaries. */
export const AtomCat = createToken({ name: "Atom", pattern: NA });
export const UnaryOpCat = createToken({ name: "UnaryPrefix", pattern: NA });

export const EOF = tok("EOF_", "end of file");
export const NEWLINE = tok("NEWLINE", "newline");
export const INDENT = tok("INDENT", "indent");
export const OUTDENT = tok("OUTDENT", "outdent");
export const IDENT = tok("IDENT", "identifier", [AtomCat]);
export const INT = tok("INT", "int literal", [AtomCat]);
export const FLOAT = tok("FLOAT", "float literal", [AtomCat]);
export const STRING = tok("STRING", "string literal", [AtomCat]);
export const BYTES = tok("BYTES", "bytes literal", [AtomCat]);
export const ILLEGAL = tok("ILLEGAL", "illegal token");
/** Stands in for the first lexical error; never consumed, so the parser reports it when it gets there. */
export const SCAN_ERROR = tok("SCAN_ERROR", "illegal token");

export const PLUS = tok("PLUS", "'+'", [BinOpCat, UnaryOpCat]);
export const MINUS = tok("MINUS", "'-'", [BinOpCat, UnaryOpCat]);
export const STAR = tok("STAR", "'*'", [BinOpCat]);
export const SLASH = tok("SLASH", "'/'", [BinOpCat]);
export const SLASHSLASH = tok("SLASHSLASH", "'//'", [BinOpCat]);
export const PERCENT = tok("PERCENT", "'%'", [BinOpCat]);
export const AMP = tok("AMP", "'&'", [BinOpCat]);
export const PIPE = tok("PIPE", "'|'", [BinOpCat]);
export const CIRCUMFLEX = tok("CIRCUMFLEX", "'^'", [BinOpCat]);
export const LTLT = tok("LTLT", "'<<'", [BinOpCat]);
export const GTGT = tok("GTGT", "'>>'", [BinOpCat]);
export const TILDE = tok("TILDE", "'~'", [UnaryOpCat]);
export const DOT = tok("DOT", "'.'");
export const COMMA = tok("COMMA", "','");
export const EQ = tok("EQ", "'='", [AssignOpCat]);
export const SEMI = tok("SEMI", "';'");
export const COLON = tok("COLON", "':'");
export const LPAREN = tok("LPAREN", "'('");
export const RPAREN = tok("RPAREN", "')'");
export const LBRACK = tok("LBRACK", "'['");
export const RBRACK = tok("RBRACK", "']'");
export const LBRACE = tok("LBRACE", "'{'");
export const RBRACE = tok("RBRACE", "'}'");
export const LT = tok("LT", "'<'", [BinOpCat]);
export const GT = tok("GT", "'>'", [BinOpCat]);
export const GE = tok("GE", "'>='", [BinOpCat]);
export const LE = tok("LE", "'<='", [BinOpCat]);
export const EQL = tok("EQL", "'=='", [BinOpCat]);
export const NEQ = tok("NEQ", "'!='", [BinOpCat]);
export const PLUS_EQ = tok("PLUS_EQ", "'+='", [AssignOpCat]);
export const MINUS_EQ = tok("MINUS_EQ", "'-='", [AssignOpCat]);
export const STAR_EQ = tok("STAR_EQ", "'*='", [AssignOpCat]);
export const SLASH_EQ = tok("SLASH_EQ", "'/='", [AssignOpCat]);
export const SLASHSLASH_EQ = tok("SLASHSLASH_EQ", "'//='", [AssignOpCat]);
export const PERCENT_EQ = tok("PERCENT_EQ", "'%='", [AssignOpCat]);
export const AMP_EQ = tok("AMP_EQ", "'&='", [AssignOpCat]);
export const PIPE_EQ = tok("PIPE_EQ", "'|='", [AssignOpCat]);
export const CIRCUMFLEX_EQ = tok("CIRCUMFLEX_EQ", "'^='", [AssignOpCat]);
export const LTLT_EQ = tok("LTLT_EQ", "'<<='", [AssignOpCat]);
export const GTGT_EQ = tok("GTGT_EQ", "'>>='", [AssignOpCat]);
export const STARSTAR = tok("STARSTAR", "'**'");

export const AND = tok("AND", "and");
export const BREAK = tok("BREAK", "break");
export const CONTINUE = tok("CONTINUE", "continue");
export const DEF = tok("DEF", "def");
export const ELIF = tok("ELIF", "elif");
export const ELSE = tok("ELSE", "else");
export const FOR = tok("FOR", "for");
export const IF = tok("IF", "if");
export const IN = tok("IN", "in", [BinOpCat]);
export const LAMBDA = tok("LAMBDA", "lambda");
export const LOAD = tok("LOAD", "load");
export const NOT = tok("NOT", "not");
export const OR = tok("OR", "or");
export const PASS = tok("PASS", "pass");
export const RETURN = tok("RETURN", "return");
export const WHILE = tok("WHILE", "while");

/** All token types by starlark-go name, for the scanner (`T.COMMA`). */
export const T = {
  EOF, NEWLINE, INDENT, OUTDENT, IDENT, INT, FLOAT, STRING, BYTES, ILLEGAL, SCAN_ERROR,
  PLUS, MINUS, STAR, SLASH, SLASHSLASH, PERCENT, AMP, PIPE, CIRCUMFLEX, LTLT, GTGT, TILDE, DOT, COMMA, EQ, SEMI,
  COLON, LPAREN, RPAREN, LBRACK, RBRACK, LBRACE, RBRACE, LT, GT, GE, LE, EQL, NEQ, PLUS_EQ, MINUS_EQ, STAR_EQ,
  SLASH_EQ, SLASHSLASH_EQ, PERCENT_EQ, AMP_EQ, PIPE_EQ, CIRCUMFLEX_EQ, LTLT_EQ, GTGT_EQ, STARSTAR,
  AND, BREAK, CONTINUE, DEF, ELIF, ELSE, FOR, IF, IN, LAMBDA, LOAD, NOT, OR, PASS, RETURN, WHILE,
} as const;

export const allTokens: TokenType[] = [
  AssignOpCat, BinOpCat, AtomCat, UnaryOpCat,
  EOF, NEWLINE, INDENT, OUTDENT, IDENT, INT, FLOAT, STRING, BYTES, ILLEGAL, SCAN_ERROR,
  PLUS, MINUS, STAR, SLASH, SLASHSLASH, PERCENT, AMP, PIPE, CIRCUMFLEX, LTLT, GTGT, TILDE, DOT, COMMA, EQ, SEMI,
  COLON, LPAREN, RPAREN, LBRACK, RBRACK, LBRACE, RBRACE, LT, GT, GE, LE, EQL, NEQ, PLUS_EQ, MINUS_EQ, STAR_EQ,
  SLASH_EQ, SLASHSLASH_EQ, PERCENT_EQ, AMP_EQ, PIPE_EQ, CIRCUMFLEX_EQ, LTLT_EQ, GTGT_EQ, STARSTAR,
  AND, BREAK, CONTINUE, DEF, ELIF, ELSE, FOR, IF, IN, LAMBDA, LOAD, NOT, OR, PASS, RETURN, WHILE,
];

export const KEYWORDS: ReadonlyMap<string, TokenType> = new Map([
  ["and", AND], ["break", BREAK], ["continue", CONTINUE], ["def", DEF], ["elif", ELIF], ["else", ELSE],
  ["for", FOR], ["if", IF], ["in", IN], ["lambda", LAMBDA], ["load", LOAD], ["not", NOT], ["or", OR],
  ["pass", PASS], ["return", RETURN], ["while", WHILE],
  // Reserved words scan as ILLEGAL, as in starlark-go, which reserves neither "assert" (tests rely on it) nor
  // "async" and "await": those are ordinary names.
  ["as", ILLEGAL], ["class", ILLEGAL], ["del", ILLEGAL],
  ["except", ILLEGAL], ["finally", ILLEGAL], ["from", ILLEGAL], ["global", ILLEGAL], ["import", ILLEGAL],
  ["is", ILLEGAL], ["nonlocal", ILLEGAL], ["raise", ILLEGAL], ["try", ILLEGAL], ["with", ILLEGAL],
  ["yield", ILLEGAL],
]);

/** starlark-go's `%#v` of a token: punctuation quoted, everything else by name. */
export function tokenName(t: TokenType): string {
  return (t.LABEL as string | undefined) ?? t.name;
}

/** Tokens that end an expression list (starlark-go's terminatesExprList). */
export function terminatesExprList(t: TokenType): boolean {
  return t === EOF || t === NEWLINE || t === EQ || t === RBRACE || t === RBRACK || t === RPAREN || t === SEMI;
}

/** Tokens that can start an expression (test). */
const EXPR_START = new Set<TokenType>([
  IDENT, INT, FLOAT, STRING, BYTES, LPAREN, LBRACK, LBRACE, PLUS, MINUS, TILDE, NOT, LAMBDA,
]);
export function startsExpr(t: TokenType): boolean {
  return EXPR_START.has(t);
}
