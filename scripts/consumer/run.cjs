// Each package through require(), as a CommonJS program loads it; prints what each exports.
const names = process.argv.slice(2);
const exported = Object.fromEntries(names.map((name) => [name, Object.keys(require(name)).length]));
console.log(JSON.stringify(exported));
