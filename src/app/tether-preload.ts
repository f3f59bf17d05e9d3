// Loaded with `node --import` into a child of `smsc up` that is not an smsc command (the MongoDB
// stand-in): it ends with `up` (see parent-tether.ts).
import { isSupervised, tetherToParent } from './parent-tether.ts';

if (isSupervised()) tetherToParent();
