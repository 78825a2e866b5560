// #region readme
import { readFileSync } from 'node:fs';
import { downgradeCrd, toolhiveCrdPaths } from '@vmcp/toolhive-crds';
import { parse } from 'yaml';

for (const path of toolhiveCrdPaths) {
  const crd = downgradeCrd(parse(readFileSync(path, 'utf8'))); // as kube-apiserver 1.20 takes it
  console.log(crd.metadata.name); // mcpexternalauthconfigs.toolhive.stacklok.dev, ...
}
// #endregion readme
