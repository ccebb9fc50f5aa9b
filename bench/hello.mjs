// The short script whose wall time shows what the preload adds to every `node` start.
console.log(1);
