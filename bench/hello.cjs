// The same short script as a CommonJS module: Node runs its first line before the event loop turns.
console.log(1);
