// A string built by `+` or a template literal is, in V8, a tree of its pieces (a cons string): one heap object per
// join. An importer keeps a chunk's JSON texts alive for seconds, until the chunk is written, and each tree then costs
// the garbage collector every one of its nodes at every marking (a person's golden-record text is about a hundred).
// Reading the string as a number makes V8 copy it into one flat string in place; the tree's nodes become garbage at
// once, while they are still young. Only for large texts kept a while: a short key made flat is a copy for nothing
// (decisions §32).

/** Written so that the conversion below is not removed by the optimiser as unused. */
let _sink = 0;

/** `text` itself, made flat (one heap object); cheap on a string that is flat already. */
export function flat(text: string): string {
  _sink ^= Number(text) | 0;
  return text;
}
