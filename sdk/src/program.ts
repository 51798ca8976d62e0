// The on-chain program for @solana/kit, driven by its Anchor IDL (idl/micropay.json,
// generated from the Rust interface crate): instructions with their discriminators,
// account order, roles, PDA seeds and argument layouts; account decoders; errors.
// Nothing here restates a layout the IDL already gives.

import {
  type Address,
  AccountRole,
  address,
  type Codec,
  fixCodecSize,
  getAddressCodec,
  getArrayCodec,
  getBytesCodec,
  getI64Codec,
  getProgramDerivedAddress,
  getStructCodec,
  getU16Codec,
  getU32Codec,
  getU64Codec,
  getU8Codec,
  type Instruction,
} from '@solana/kit';

import { IDL } from './generated/idl.js';

export const PROGRAM_ADDRESS = address(IDL.address);

type IdlType = string | { array: readonly [IdlType, number] } | { defined: { name: string } };
type InstructionName = (typeof IDL.instructions)[number]['name'];
type AccountName = (typeof IDL.accounts)[number]['name'];

// Decoded values: u64/i64 as bigint, smaller integers as number, addresses, bytes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Value = any;

function codecFor(type: IdlType): Codec<Value> {
  if (typeof type === 'string') {
    switch (type) {
      case 'u8':
        return getU8Codec();
      case 'u16':
        return getU16Codec();
      case 'u32':
        return getU32Codec();
      case 'u64':
        return getU64Codec();
      case 'i64':
        return getI64Codec();
      case 'pubkey':
        return getAddressCodec();
      default:
        throw new Error(`the IDL type ${type} is not supported`);
    }
  }
  if ('array' in type) {
    const [item, size] = type.array;
    if (item === 'u8') return fixCodecSize(getBytesCodec(), size);
    return getArrayCodec(codecFor(item), { size });
  }
  return structCodec(type.defined.name);
}

function structCodec(name: string): Codec<Value> {
  const definition = IDL.types.find((type) => type.name === name);
  if (!definition) throw new Error(`the IDL has no type ${name}`);
  return getStructCodec(
    definition.type.fields.map((field) => [field.name, codecFor(field.type as IdlType)] as const),
  ) as Codec<Value>;
}

/** An instruction's accounts by their IDL names; PDAs and fixed programs may be left out. */
export type AccountInputs = Record<string, Address>;

/**
 * Builds `name` from the IDL: each account from `accounts`, else its fixed address,
 * else its PDA from the IDL's seeds; the data is the discriminator and the IDL's
 * encoding of `args`.
 */
export async function instruction(
  name: InstructionName,
  accounts: AccountInputs,
  args?: Record<string, Value>,
): Promise<Instruction> {
  const spec = IDL.instructions.find((ix) => ix.name === name);
  if (!spec) throw new Error(`the IDL has no instruction ${name}`);
  const resolved: Record<string, Address> = { ...accounts };
  const metas = [];
  for (const account of spec.accounts) {
    let key = resolved[account.name];
    if (!key && 'address' in account) key = address(account.address);
    if (!key && 'pda' in account) key = await derive(account.pda.seeds, resolved, name);
    if (!key) throw new Error(`${name}: account ${account.name} is missing`);
    resolved[account.name] = key;
    metas.push({
      address: key,
      role: account.signer
        ? account.writable
          ? AccountRole.WRITABLE_SIGNER
          : AccountRole.READONLY_SIGNER
        : account.writable
          ? AccountRole.WRITABLE
          : AccountRole.READONLY,
    });
  }
  const parts: Uint8Array[] = [Uint8Array.from(spec.discriminator)];
  for (const arg of spec.args) {
    const value = args?.[arg.name];
    if (value === undefined) throw new Error(`${name}: argument ${arg.name} is missing`);
    parts.push(codecFor(arg.type as IdlType).encode(value) as Uint8Array);
  }
  const data = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  parts.reduce((at, part) => (data.set(part, at), at + part.length), 0);
  return { programAddress: PROGRAM_ADDRESS, accounts: metas, data };
}

type Seeds = readonly ({ kind: 'const'; value: readonly number[] } | { kind: 'account'; path: string })[];

async function derive(seeds: Seeds, keys: Record<string, Address>, context: string): Promise<Address> {
  const bytes = seeds.map((seed) => {
    if (seed.kind === 'const') return Uint8Array.from(seed.value);
    const key = keys[seed.path];
    if (!key) throw new Error(`${context}: account ${seed.path} is missing (a seed of a PDA)`);
    return getAddressCodec().encode(key);
  });
  const [derived] = await getProgramDerivedAddress({ programAddress: PROGRAM_ADDRESS, seeds: bytes });
  return derived;
}

/**
 * The PDA `account` of instruction `instructionName`, from the IDL's seeds and the
 * accounts they name: `pda('open_tab', 'tab', { config, owner })`.
 */
export function pda(
  instructionName: InstructionName,
  account: string,
  keys: Record<string, Address>,
): Promise<Address> {
  const spec = IDL.instructions.find((ix) => ix.name === instructionName);
  const found = spec?.accounts.find((a) => a.name === account);
  if (!found || !('pda' in found)) throw new Error(`${instructionName}: ${account} is not a PDA in the IDL`);
  return derive(found.pda.seeds, keys, instructionName);
}

/** Decodes a program account, checking its discriminator. */
export function decodeAccount(name: AccountName, data: Uint8Array): Value {
  const spec = IDL.accounts.find((account) => account.name === name)!;
  const discriminator = Uint8Array.from(spec.discriminator);
  if (data.length < 8 || discriminator.some((byte, i) => data[i] !== byte))
    throw new Error(`not a ${name} account`);
  return structCodec(name).decode(data.subarray(8));
}

/** The program error with `code`, as the IDL names and explains it. */
export function programError(code: number): { name: string; message: string } | undefined {
  const error = IDL.errors.find((e) => e.code === code);
  return error && { name: error.name, message: error.msg };
}
