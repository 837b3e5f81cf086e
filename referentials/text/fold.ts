// Moved to src/text/fold.ts (the hub's console searches with it too, and src/ imports nothing from referentials/).
export * from '../../src/text/fold.ts';
