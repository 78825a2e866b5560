/**
 * The keys a JSON text repeats within one object, at any depth, in order (`JSON.parse` keeps the
 * last of them silently, as most log pipelines do). The text must be valid JSON.
 */
export function repeatedKeys(json: string): string[] {
  JSON.parse(json);
  /** Per open object, the keys seen so far; per open array, undefined. */
  const open: (Set<string> | undefined)[] = [];
  const repeated: string[] = [];
  let expectingKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      const keys = open.at(-1);
      if (expectingKey && keys !== undefined) {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (keys.has(key)) repeated.push(key);
        keys.add(key);
        expectingKey = false;
      }
      i = end;
    } else if (c === '{') {
      open.push(new Set());
      expectingKey = true;
    } else if (c === '[') {
      open.push(undefined);
      expectingKey = false;
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      expectingKey = open.at(-1) !== undefined;
    }
  }
  return repeated;
}
