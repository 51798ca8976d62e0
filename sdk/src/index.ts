// micropay for TypeScript: the protocol, keys and signatures, the relayer's wire
// shapes and client.

export * from './accounts.js';
export * from './pay.js';
export * from './payee.js';
export * from './program.js';
export * from './protocol.js';
export * from './relayer.js';
export * from './session.js';
export * from './signing.js';
export * from './units.js';
export * from './wire.js';
