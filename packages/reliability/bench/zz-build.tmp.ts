import { clientGoAnchor } from './client-go.js';

console.log(await clientGoAnchor());
