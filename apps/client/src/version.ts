import packageJson from '../package.json';

/** The client's version, printed by `kv --version`: the `version` of `apps/client/package.json`. */
export const CLIENT_VERSION: string = packageJson.version;
