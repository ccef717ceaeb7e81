import { exec, APP_DIALECT } from "./src/starlark/index.ts";
const mod = await Bun.file("./bench/starlark/run.ts").text();
const m = mod.slice(mod.indexOf("const programs"), mod.indexOf("function timeOurs"));
const programs: Record<string, string> = new Function("return " + m.slice(m.indexOf("{"), m.lastIndexOf("}") + 1).replace(/\$\{/g, "\\${"))();
const parts: Record<string,string> = {
 rep: `def main():\n    flags = [True] * 300001\n    return len(flags)\nresult = main()\n`,
 inner: `def main():\n    flags = [True] * 300001\n    for i in range(2, 548):\n        if flags[i]:\n            for j in range(i * i, 300001, i):\n                flags[j] = False\n    return 1\nresult = main()\n`,
 count: `def main():\n    flags = [True] * 300001\n    count = 0\n    for f in flags:\n        if f:\n            count += 1\n    return count\nresult = main()\n`,
};
function best(src: string) { let b = Infinity; for (let i = 0; i < 5; i++) { const t0 = performance.now(); exec("b.star", src, { options: APP_DIALECT }); b = Math.min(b, performance.now() - t0); } return b.toFixed(1); }
console.log("fresh:", Object.entries(parts).map(([k, s]) => k + " " + best(s)).join(", "));
for (const [name, src] of Object.entries(programs)) if (!name.includes("sieve")) best(src);
console.log("after others:", Object.entries(parts).map(([k, s]) => k + " " + best(s)).join(", "));
Bun.gc(true);
console.log("after gc:", Object.entries(parts).map(([k, s]) => k + " " + best(s)).join(", "));
