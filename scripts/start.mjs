// `npm start`: compile when the sources are newer than the build, then run the server.
import { buildIfNeeded, entry } from './build.mjs';

buildIfNeeded();
await import(entry);
