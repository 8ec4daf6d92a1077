/**
 * The namespace a command line asks for, checked against where it connects:
 * a name of the form keys.ts accepts, and one at all on a Redis Cluster
 * (whose slots the default namespace's keys would spread over). Loads no
 * Redis client, like url.ts, so a command line can check it cheaply.
 */
import { InvalidArgumentError } from '../errors.js';
import { checkNamespace } from '../keys.js';
import { parseConnectionUrl } from './url.js';

/** `--namespace` (or `$QLESS_NAMESPACE`) for a connection URL: the name, or undefined for the default namespace. */
export function namespaceFor(given: string | undefined, url: string, flag = '--namespace', env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env['QLESS_NAMESPACE'];
  const source = given !== undefined ? flag : '$QLESS_NAMESPACE';
  const namespace = checkNamespace(given ?? (fromEnv === '' ? undefined : fromEnv), source);
  if (namespace === undefined && parseConnectionUrl(url).topology === 'cluster') {
    throw new InvalidArgumentError(`a Redis Cluster needs a namespace: give ${flag} <name> (its keys are then ql:{<name>}:…, all on one node)`);
  }
  return namespace;
}
