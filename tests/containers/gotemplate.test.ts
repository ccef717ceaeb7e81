/** Go's template language for cl_secret files and secret values: what Clace's specs and docs use, errors with lines. */
import { describe, expect, test } from "bun:test";
import { TemplateError, renderGoTemplate, sprintf } from "../../src/containers/gotemplate.ts";

const data = { params: { b: "2", a: "1", name: "x y", empty: "" }, list: ["p", "q"], nested: { m: { k: "deep" } } };
const r = (t: string, funcs = {}): string => renderGoTemplate(t, data, "t.tmpl", funcs);

describe("rendering", () => {
  test("the python-streamlit secrets.toml.tmpl: range over .params in key order, as Go renders it", () => {
    const tmpl = '{{ range $key, $value := .params }}\n{{ $key }} = "{{ $value }}"\n{{ end }}\n';
    expect(r(tmpl)).toBe('\na = "1"\n\nb = "2"\n\nempty = ""\n\nname = "x y"\n\n');
  });

  test("trim markers remove the whitespace on their side only", () => {
    expect(r("a  {{- .params.a -}}  \n b")).toBe("a1b");
    expect(r("a {{ .params.a -}}\n\n b")).toBe("a 1b");
    expect(r("{{- range .list }}\n  - {{ . }}\n{{- end }}")).toBe("\n  - p\n  - q");
  });

  test("if / else if / else, with / else, and variables scoped to their block", () => {
    expect(r('{{ if eq .params.a "2" }}two{{ else if eq .params.a "1" }}one{{ else }}other{{ end }}')).toBe("one");
    expect(r("{{ if .params.empty }}set{{ else }}unset{{ end }}|{{ if .params.nope }}x{{ else }}missing is false{{ end }}")).toBe("unset|missing is false");
    expect(r("{{ with .nested.m }}{{ .k }}{{ end }}|{{ with .params.empty }}x{{ else }}none{{ end }}")).toBe("deep|none");
    expect(r("{{ $x := .params.a }}{{ if true }}{{ $x = \"in\" }}{{ $y := 1 }}{{ end }}{{ $x }}")).toBe("in");
    expect(() => r("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}")).toThrow("t.tmpl:1:39: undefined variable: $y");
  });

  test("range over lists (one or two variables), integers, with else, break and continue", () => {
    expect(r("{{ range $i, $v := .list }}{{ $i }}:{{ $v }} {{ end }}")).toBe("0:p 1:q ");
    expect(r("{{ range $v := .list }}{{ $v }}{{ end }}")).toBe("pq");
    expect(r("{{ range 4 }}{{ if eq . 1 }}{{ continue }}{{ end }}{{ if eq . 3 }}{{ break }}{{ end }}{{ . }}{{ end }}")).toBe("02");
    expect(r("{{ range .params.nope }}x{{ else }}nothing{{ end }}")).toBe("nothing");
    expect(r("{{ range $k, $v := .nested }}{{ $k }}={{ $v.k }}{{ end }}")).toBe("m=deep");
  });

  test("index, len, pipelines, parentheses, printf and the other builtins", () => {
    expect(r('{{ index .params "b" }}|{{ index .list 1 }}|{{ index .nested "m" "k" }}')).toBe("2|q|deep");
    expect(r('{{ .params.name | printf "%s!" | len }}|{{ len .list }}|{{ (index .nested "m").k }}')).toBe("4|2|deep");
    expect(r('{{ printf "%s=%q %d %5.2f|%-3s|%03d|%v %t %%" "k" "v" 42 3.14159 "a" 7 .list true }}')).toBe('k="v" 42  3.14|a  |007|[p q] true %');
    expect(r('{{ and 1 "" }}|{{ or 0 "z" }}|{{ not .params.nope }}|{{ print 1 2 "a" 3 }}|{{ println "x" 1 }}')).toBe("|z|true|1 2a3|x 1\n");
    expect(r('{{ html "<a href=\'x\'>" }}|{{ urlquery "a b&c" }}|{{ js "it\'s" }}')).toBe("&lt;a href=&#39;x&#39;&gt;|a+b%26c|it\\'s");
    expect(r('{{ lt 1 2 }}{{ ge "b" "a" }}{{ ne 1 1 }}{{ eq .params.a "0" "1" }}')).toBe("truetruefalsetrue");
    expect(r("{{/* a comment */}}x{{- /* trimmed */ -}} y")).toBe("xy");
    expect(r('{{ "a\\tb" }}{{ `raw\\n` }}{{ 0x1F }}{{ 1.5 }}')).toBe("a\tbraw\\n311.5");
  });

  test("functions a caller adds are called with the arguments and the piped value", () => {
    const funcs = { upper: (s: unknown) => String(s).toUpperCase(), join: (...a: unknown[]) => a.join("+") };
    expect(r('{{ upper .params.name }}|{{ .params.a | join "x" "y" }}', funcs)).toBe("X Y|x+y+1");
  });
});

describe("errors name the file, line and column", () => {
  const cases: [string, string][] = [
    ["ok\n{{ .params.nope }}", "t.tmpl:2:4: .params.nope has no value"],
    ["a\nb\n  {{ secret 1 }}", 't.tmpl:3:6: function "secret" not defined'],
    ["{{ if 1 }}\nx", "t.tmpl:1:4: unexpected EOF: {{if}} has no {{end}}"],
    ["x\n{{ end }}", "t.tmpl:2:4: unexpected {{end}}"],
    ["{{ .params.a.b }}", "t.tmpl:1:4: can't evaluate field b in type string"],
    ['{{ "open }}', "t.tmpl:1:4: unterminated quoted string"],
    ['{{ template "x" }}', "t.tmpl:1:4: {{template}} is not supported"],
    ["{{ lt 1 \"a\" }}", "t.tmpl:1:4: error calling lt: incompatible types for comparison: int and string"],
    ["{{ .params.a 1 }}", "t.tmpl:1:14: can't give argument to non-function .params.a"],
    ["{{ break }}", "t.tmpl:1:4: {{break}} outside {{range}}"],
    ["{{ index .list 5 }}", "t.tmpl:1:4: error calling index"],
    ["{{ range 1 }}{{ .x }}{{ end }}", "t.tmpl:1:17: can't evaluate field x in type int"],
    ["{{ .params.a", "unclosed action"],
  ];
  for (const [tmpl, message] of cases) {
    test(JSON.stringify(tmpl), () => {
      let err: unknown;
      try {
        r(tmpl);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TemplateError);
      expect((err as TemplateError).message).toContain(message);
    });
  }

  test("an error a function raises is kept as the cause", () => {
    class Refused extends Error {}
    const err = (() => {
      try {
        r("{{ deny }}", { deny: () => { throw new Refused("no"); } });
      } catch (e) {
        return e as TemplateError;
      }
    })();
    expect(err?.cause).toBeInstanceOf(Refused);
    expect(err?.message).toBe("t.tmpl:1:4: error calling deny: no");
  });
});

test("sprintf reports missing and extra arguments as Go does", () => {
  expect(sprintf("%s %s", ["a"])).toBe("a %!s(MISSING)");
  expect(sprintf("%s", ["a", 1])).toBe("a%!(EXTRA int=1)");
});
