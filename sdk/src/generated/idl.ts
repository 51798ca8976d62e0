// Generated from idl/micropay.json by sdk/scripts/generate.mjs. Do not edit: run
// `npm run generate` after it changes.

export const IDL = {
  "accounts": [
    {
      "discriminator": [
        155,
        12,
        170,
        224,
        30,
        250,
        204,
        130
      ],
      "name": "Config"
    },
    {
      "discriminator": [
        194,
        242,
        40,
        53,
        214,
        169,
        9,
        172
      ],
      "name": "Tab"
    },
    {
      "discriminator": [
        6,
        79,
        161,
        136,
        156,
        172,
        190,
        149
      ],
      "name": "Credit"
    }
  ],
  "address": "6YuTSm4uRcePFLaQywfqZEC1C9qMK52AkSmcmnhsXu6G",
  "errors": [
    {
      "code": 6000,
      "msg": "instruction data is malformed",
      "name": "InvalidInstruction"
    },
    {
      "code": 6001,
      "msg": "too few accounts for this instruction",
      "name": "NotEnoughAccounts"
    },
    {
      "code": 6002,
      "msg": "account is not owned by the expected program",
      "name": "WrongAccountOwner"
    },
    {
      "code": 6003,
      "msg": "account data is not of the expected kind",
      "name": "WrongAccountData"
    },
    {
      "code": 6004,
      "msg": "a required signer did not sign",
      "name": "MissingSignature"
    },
    {
      "code": 6005,
      "msg": "account must be writable",
      "name": "AccountNotWritable"
    },
    {
      "code": 6006,
      "msg": "account is not the expected program-derived address",
      "name": "WrongPda"
    },
    {
      "code": 6007,
      "msg": "account belongs to another config",
      "name": "ConfigMismatch"
    },
    {
      "code": 6008,
      "msg": "account is not of the config's mint",
      "name": "WrongMint"
    },
    {
      "code": 6009,
      "msg": "token program is not the config's",
      "name": "WrongTokenProgram"
    },
    {
      "code": 6010,
      "msg": "system program account is wrong",
      "name": "WrongSystemProgram"
    },
    {
      "code": 6011,
      "msg": "account is not the config's vault",
      "name": "WrongVault"
    },
    {
      "code": 6012,
      "msg": "mint has an extension that could move, hook, pause or tax the vault's tokens",
      "name": "UnsupportedMint"
    },
    {
      "code": 6013,
      "msg": "fee is above the maximum",
      "name": "FeeTooHigh"
    },
    {
      "code": 6014,
      "msg": "withdrawal delay is outside the allowed range",
      "name": "BadWithdrawalDelay"
    },
    {
      "code": 6015,
      "msg": "top-up window is too short, or above half the withdrawal delay",
      "name": "BadTopUpWindow"
    },
    {
      "code": 6016,
      "msg": "amount must be greater than zero",
      "name": "ZeroAmount"
    },
    {
      "code": 6017,
      "msg": "arithmetic overflow",
      "name": "Overflow"
    },
    {
      "code": 6018,
      "msg": "tab balance is too low",
      "name": "InsufficientBalance"
    },
    {
      "code": 6019,
      "msg": "no withdrawal is pending",
      "name": "NoPendingWithdrawal"
    },
    {
      "code": 6020,
      "msg": "the withdrawal delay has not passed",
      "name": "WithdrawalLocked"
    },
    {
      "code": 6021,
      "msg": "a settlement of this tab can still be topped up",
      "name": "TopUpWindowOpen"
    },
    {
      "code": 6022,
      "msg": "key is not a canonical ed25519 point of large order",
      "name": "BadKey"
    },
    {
      "code": 6023,
      "msg": "stream slot is out of range or not a session slot",
      "name": "BadSlot"
    },
    {
      "code": 6024,
      "msg": "stream slot holds another key that is still valid",
      "name": "SlotInUse"
    },
    {
      "code": 6025,
      "msg": "key is already registered on this tab",
      "name": "DuplicateKey"
    },
    {
      "code": 6026,
      "msg": "session signer expiry is in the past",
      "name": "SignerExpired"
    },
    {
      "code": 6027,
      "msg": "session signer is removed or expired",
      "name": "SignerNotLive"
    },
    {
      "code": 6028,
      "msg": "a live session's cap and expiry can only grow",
      "name": "CannotLower"
    },
    {
      "code": 6029,
      "msg": "nothing to settle",
      "name": "EmptySettlement"
    },
    {
      "code": 6030,
      "msg": "too many items, payees or entries in one settlement",
      "name": "TooManyItems"
    },
    {
      "code": 6031,
      "msg": "signed state has no entries",
      "name": "EmptyState"
    },
    {
      "code": 6032,
      "msg": "account is not a tab of this config",
      "name": "WrongTab"
    },
    {
      "code": 6033,
      "msg": "stream slot has no key",
      "name": "SlotEmpty"
    },
    {
      "code": 6034,
      "msg": "stream slot's key is past its validity",
      "name": "SlotNoLongerValid"
    },
    {
      "code": 6035,
      "msg": "signed state is neither the open epoch nor a top-up of the last settled one",
      "name": "StaleEpoch"
    },
    {
      "code": 6036,
      "msg": "the stream's last settlement can still be topped up",
      "name": "WindowNotPassed"
    },
    {
      "code": 6037,
      "msg": "the top-up window of the last settlement has closed",
      "name": "WindowClosed"
    },
    {
      "code": 6038,
      "msg": "a top-up must carry a higher seq than the settled state",
      "name": "SeqNotHigher"
    },
    {
      "code": 6039,
      "msg": "previous entries do not match the settled entries hash",
      "name": "PreviousEntriesMismatch"
    },
    {
      "code": 6040,
      "msg": "a top-up may not lower any payee's amount",
      "name": "AmountDecreased"
    },
    {
      "code": 6041,
      "msg": "stream key's signature does not verify",
      "name": "BadSignature"
    },
    {
      "code": 6042,
      "msg": "sequencer's receipt does not verify",
      "name": "BadReceipt"
    },
    {
      "code": 6043,
      "msg": "settler is not the sequencer and carries no receipts",
      "name": "NotSequencer"
    },
    {
      "code": 6044,
      "msg": "session signer's spending cap would be exceeded",
      "name": "SessionCapExceeded"
    },
    {
      "code": 6045,
      "msg": "entries are not strictly sorted by payee wallet",
      "name": "EntriesNotSorted"
    },
    {
      "code": 6046,
      "msg": "payee index is out of range",
      "name": "BadPayeeIndex"
    },
    {
      "code": 6047,
      "msg": "payee wallet cannot be read from the accounts given",
      "name": "PayeeWalletUnknown"
    },
    {
      "code": 6048,
      "msg": "payee wallet is the config, its vault or a tab",
      "name": "RefusedPayee"
    },
    {
      "code": 6049,
      "msg": "account is not the payee's credit address",
      "name": "WrongCredit"
    },
    {
      "code": 6050,
      "msg": "an account appears twice",
      "name": "DuplicateAccount"
    },
    {
      "code": 6051,
      "msg": "signer is not the config's admin",
      "name": "NotAdmin"
    },
    {
      "code": 6052,
      "msg": "credit account holds nothing",
      "name": "NoCredit"
    },
    {
      "code": 6053,
      "msg": "account is not a token account of the fee destination",
      "name": "WrongFeeDestination"
    },
    {
      "code": 6054,
      "msg": "no fees are owed",
      "name": "NoFees"
    },
    {
      "code": 6055,
      "msg": "tab still holds funds",
      "name": "TabNotEmpty"
    },
    {
      "code": 6056,
      "msg": "account is not the one that paid the credit's rent",
      "name": "WrongRentPayer"
    }
  ],
  "events": [
    {
      "discriminator": [
        181,
        49,
        200,
        156,
        19,
        167,
        178,
        91
      ],
      "name": "ConfigInitialized"
    },
    {
      "discriminator": [
        116,
        164,
        109,
        184,
        211,
        51,
        131,
        89
      ],
      "name": "ConfigUpdateScheduled"
    },
    {
      "discriminator": [
        230,
        156,
        126,
        232,
        83,
        136,
        126,
        17
      ],
      "name": "TabOpened"
    },
    {
      "discriminator": [
        111,
        141,
        26,
        45,
        161,
        35,
        100,
        57
      ],
      "name": "Deposited"
    },
    {
      "discriminator": [
        207,
        55,
        247,
        68,
        22,
        112,
        95,
        45
      ],
      "name": "SignerAdded"
    },
    {
      "discriminator": [
        61,
        29,
        198,
        197,
        109,
        190,
        201,
        233
      ],
      "name": "SignerRemoved"
    },
    {
      "discriminator": [
        114,
        16,
        240,
        206,
        93,
        128,
        151,
        39
      ],
      "name": "WithdrawRequested"
    },
    {
      "discriminator": [
        20,
        89,
        223,
        198,
        194,
        124,
        219,
        13
      ],
      "name": "Withdrawn"
    },
    {
      "discriminator": [
        148,
        211,
        174,
        8,
        248,
        190,
        59,
        9
      ],
      "name": "TabClosed"
    },
    {
      "discriminator": [
        100,
        129,
        90,
        140,
        151,
        72,
        99,
        213
      ],
      "name": "StreamSettled"
    },
    {
      "discriminator": [
        60,
        129,
        205,
        198,
        109,
        22,
        177,
        14
      ],
      "name": "PayeePaid"
    },
    {
      "discriminator": [
        173,
        2,
        172,
        90,
        249,
        178,
        171,
        194
      ],
      "name": "CreditClaimed"
    },
    {
      "discriminator": [
        233,
        23,
        117,
        225,
        107,
        178,
        254,
        8
      ],
      "name": "FeesCollected"
    }
  ],
  "instructions": [
    {
      "accounts": [
        {
          "name": "admin",
          "signer": true,
          "writable": true
        },
        {
          "name": "config",
          "signer": true,
          "writable": true
        },
        {
          "name": "mint",
          "signer": false,
          "writable": false
        },
        {
          "name": "vault",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": true
        },
        {
          "name": "vault_authority",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116,
                  95,
                  97,
                  117,
                  116,
                  104,
                  111,
                  114,
                  105,
                  116,
                  121
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": false
        },
        {
          "name": "token_program",
          "signer": false,
          "writable": false
        },
        {
          "address": "11111111111111111111111111111111",
          "name": "system_program",
          "signer": false,
          "writable": false
        }
      ],
      "args": [
        {
          "name": "args",
          "type": {
            "defined": {
              "name": "Params"
            }
          }
        }
      ],
      "discriminator": [
        23,
        235,
        115,
        232,
        168,
        96,
        1,
        231
      ],
      "docs": [
        "A deployment for one mint and one sequencer, with its vault."
      ],
      "name": "init_config"
    },
    {
      "accounts": [
        {
          "name": "admin",
          "signer": true,
          "writable": false
        },
        {
          "name": "config",
          "signer": false,
          "writable": true
        }
      ],
      "args": [
        {
          "name": "args",
          "type": {
            "defined": {
              "name": "Params"
            }
          }
        }
      ],
      "discriminator": [
        29,
        158,
        252,
        191,
        10,
        83,
        219,
        99
      ],
      "docs": [
        "Schedules new parameters after a notice period no shorter than the withdrawal delay."
      ],
      "name": "update_config"
    },
    {
      "accounts": [
        {
          "name": "owner",
          "signer": true,
          "writable": true
        },
        {
          "name": "config",
          "signer": false,
          "writable": true
        },
        {
          "name": "tab",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  116,
                  97,
                  98
                ]
              },
              {
                "kind": "account",
                "path": "config"
              },
              {
                "kind": "account",
                "path": "owner"
              }
            ]
          },
          "signer": false,
          "writable": true
        },
        {
          "address": "11111111111111111111111111111111",
          "name": "system_program",
          "signer": false,
          "writable": false
        }
      ],
      "args": [],
      "discriminator": [
        76,
        59,
        11,
        59,
        218,
        58,
        30,
        59
      ],
      "docs": [
        "Opens the owner's tab, PDA [\"tab\", config, owner]."
      ],
      "name": "open_tab"
    },
    {
      "accounts": [
        {
          "name": "depositor",
          "signer": true,
          "writable": false
        },
        {
          "name": "config",
          "signer": false,
          "writable": false
        },
        {
          "name": "tab",
          "signer": false,
          "writable": true
        },
        {
          "name": "mint",
          "signer": false,
          "writable": false
        },
        {
          "name": "source",
          "signer": false,
          "writable": true
        },
        {
          "name": "vault",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": true
        },
        {
          "name": "token_program",
          "signer": false,
          "writable": false
        }
      ],
      "args": [
        {
          "name": "args",
          "type": {
            "defined": {
              "name": "AmountArgs"
            }
          }
        }
      ],
      "discriminator": [
        242,
        35,
        198,
        137,
        82,
        225,
        242,
        182
      ],
      "docs": [
        "Adds to a tab what the vault receives."
      ],
      "name": "deposit"
    },
    {
      "accounts": [
        {
          "name": "owner",
          "signer": true,
          "writable": false
        },
        {
          "name": "config",
          "signer": false,
          "writable": false
        },
        {
          "name": "tab",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  116,
                  97,
                  98
                ]
              },
              {
                "kind": "account",
                "path": "config"
              },
              {
                "kind": "account",
                "path": "owner"
              }
            ]
          },
          "signer": false,
          "writable": true
        }
      ],
      "args": [
        {
          "name": "args",
          "type": {
            "defined": {
              "name": "AddSignerArgs"
            }
          }
        }
      ],
      "discriminator": [
        76,
        104,
        61,
        51,
        179,
        139,
        47,
        222
      ],
      "docs": [
        "Registers a session key in a stream slot, or raises a live key's cap or expiry."
      ],
      "name": "add_signer"
    },
    {
      "accounts": [
        {
          "name": "owner",
          "signer": true,
          "writable": false
        },
        {
          "name": "config",
          "signer": false,
          "writable": false
        },
        {
          "name": "tab",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  116,
                  97,
                  98
                ]
              },
              {
                "kind": "account",
                "path": "config"
              },
              {
                "kind": "account",
                "path": "owner"
              }
            ]
          },
          "signer": false,
          "writable": true
        }
      ],
      "args": [
        {
          "name": "args",
          "type": {
            "defined": {
              "name": "SlotArgs"
            }
          }
        }
      ],
      "discriminator": [
        212,
        32,
        97,
        47,
        61,
        67,
        184,
        141
      ],
      "docs": [
        "Stops a session key; its states settle until now + withdrawal delay."
      ],
      "name": "remove_signer"
    },
    {
      "accounts": [
        {
          "name": "owner",
          "signer": true,
          "writable": false
        },
        {
          "name": "config",
          "signer": false,
          "writable": false
        },
        {
          "name": "tab",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  116,
                  97,
                  98
                ]
              },
              {
                "kind": "account",
                "path": "config"
              },
              {
                "kind": "account",
                "path": "owner"
              }
            ]
          },
          "signer": false,
          "writable": true
        }
      ],
      "args": [
        {
          "name": "args",
          "type": {
            "defined": {
              "name": "AmountArgs"
            }
          }
        }
      ],
      "discriminator": [
        137,
        95,
        187,
        96,
        250,
        138,
        31,
        182
      ],
      "docs": [
        "Requests a withdrawal (0 cancels); a new request restarts the delay."
      ],
      "name": "request_withdraw"
    },
    {
      "accounts": [
        {
          "name": "owner",
          "signer": true,
          "writable": false
        },
        {
          "name": "config",
          "signer": false,
          "writable": false
        },
        {
          "name": "tab",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  116,
                  97,
                  98
                ]
              },
              {
                "kind": "account",
                "path": "config"
              },
              {
                "kind": "account",
                "path": "owner"
              }
            ]
          },
          "signer": false,
          "writable": true
        },
        {
          "name": "vault",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": true
        },
        {
          "name": "vault_authority",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116,
                  95,
                  97,
                  117,
                  116,
                  104,
                  111,
                  114,
                  105,
                  116,
                  121
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": false
        },
        {
          "name": "mint",
          "signer": false,
          "writable": false
        },
        {
          "name": "destination",
          "signer": false,
          "writable": true
        },
        {
          "name": "token_program",
          "signer": false,
          "writable": false
        }
      ],
      "args": [],
      "discriminator": [
        183,
        18,
        70,
        156,
        148,
        109,
        161,
        34
      ],
      "docs": [
        "Pays min(requested, balance) once the delay and every top-up window have passed."
      ],
      "name": "withdraw"
    },
    {
      "accounts": [
        {
          "name": "owner",
          "signer": true,
          "writable": true
        },
        {
          "name": "config",
          "signer": false,
          "writable": false
        },
        {
          "name": "tab",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  116,
                  97,
                  98
                ]
              },
              {
                "kind": "account",
                "path": "config"
              },
              {
                "kind": "account",
                "path": "owner"
              }
            ]
          },
          "signer": false,
          "writable": true
        },
        {
          "name": "vault",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": true
        },
        {
          "name": "vault_authority",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116,
                  95,
                  97,
                  117,
                  116,
                  104,
                  111,
                  114,
                  105,
                  116,
                  121
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": false
        },
        {
          "name": "mint",
          "signer": false,
          "writable": false
        },
        {
          "name": "destination",
          "signer": false,
          "writable": true
        },
        {
          "name": "token_program",
          "signer": false,
          "writable": false
        }
      ],
      "args": [],
      "discriminator": [
        50,
        190,
        117,
        26,
        0,
        101,
        166,
        239
      ],
      "docs": [
        "Withdraws the whole balance as `withdraw` would, then closes the tab."
      ],
      "name": "close_tab"
    },
    {
      "accounts": [
        {
          "name": "settler",
          "signer": true,
          "writable": true
        },
        {
          "name": "config",
          "signer": false,
          "writable": true
        },
        {
          "name": "vault",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": true
        },
        {
          "name": "vault_authority",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116,
                  95,
                  97,
                  117,
                  116,
                  104,
                  111,
                  114,
                  105,
                  116,
                  121
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": false
        },
        {
          "name": "mint",
          "signer": false,
          "writable": false
        },
        {
          "name": "token_program",
          "signer": false,
          "writable": false
        },
        {
          "address": "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr",
          "name": "memo_program",
          "signer": false,
          "writable": false
        },
        {
          "address": "11111111111111111111111111111111",
          "name": "system_program",
          "signer": false,
          "writable": false
        }
      ],
      "args": [],
      "discriminator": [
        175,
        42,
        185,
        87,
        144,
        131,
        102,
        212
      ],
      "docs": [
        "Settles stream states. Remaining accounts: one tab per item, then per payee its token account, its credit and, where its bit says so, its wallet. Data after the discriminator: payee_count u8; wallet bits, ceil(payee_count/8) bytes; default fee_bps u16; item_count u8; per item: head u8 (bits 0-2 slot, 3 top-up, 4 receipt, 5 own fee), seq LEB128, [fee_bps u16], count u8 and (payee u8, amount LEB128) entries, [previous entries], signature [64], [receipt [64]]."
      ],
      "name": "settle"
    },
    {
      "accounts": [
        {
          "name": "wallet",
          "signer": true,
          "writable": false
        },
        {
          "name": "config",
          "signer": false,
          "writable": false
        },
        {
          "name": "credit",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  99,
                  114,
                  101,
                  100,
                  105,
                  116
                ]
              },
              {
                "kind": "account",
                "path": "config"
              },
              {
                "kind": "account",
                "path": "wallet"
              }
            ]
          },
          "signer": false,
          "writable": true
        },
        {
          "name": "vault",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": true
        },
        {
          "name": "vault_authority",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116,
                  95,
                  97,
                  117,
                  116,
                  104,
                  111,
                  114,
                  105,
                  116,
                  121
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": false
        },
        {
          "name": "mint",
          "signer": false,
          "writable": false
        },
        {
          "name": "destination",
          "signer": false,
          "writable": true
        },
        {
          "name": "token_program",
          "signer": false,
          "writable": false
        },
        {
          "name": "rent_payer",
          "signer": false,
          "writable": true
        }
      ],
      "args": [],
      "discriminator": [
        190,
        242,
        172,
        79,
        29,
        82,
        22,
        163
      ],
      "docs": [
        "Pays a wallet its credit and returns the credit's rent."
      ],
      "name": "claim_credit"
    },
    {
      "accounts": [
        {
          "name": "config",
          "signer": false,
          "writable": true
        },
        {
          "name": "vault",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": true
        },
        {
          "name": "vault_authority",
          "pda": {
            "seeds": [
              {
                "kind": "const",
                "value": [
                  118,
                  97,
                  117,
                  108,
                  116,
                  95,
                  97,
                  117,
                  116,
                  104,
                  111,
                  114,
                  105,
                  116,
                  121
                ]
              },
              {
                "kind": "account",
                "path": "config"
              }
            ]
          },
          "signer": false,
          "writable": false
        },
        {
          "name": "mint",
          "signer": false,
          "writable": false
        },
        {
          "name": "destination",
          "signer": false,
          "writable": true
        },
        {
          "name": "token_program",
          "signer": false,
          "writable": false
        }
      ],
      "args": [],
      "discriminator": [
        164,
        152,
        207,
        99,
        30,
        186,
        19,
        182
      ],
      "docs": [
        "Sweeps fees owed to a token account of the fee destination."
      ],
      "name": "collect_fees"
    }
  ],
  "metadata": {
    "description": "Escrowed tabs, streams of off-chain signed states, batched settlement",
    "name": "micropay",
    "spec": "0.1.0",
    "version": "0.1.0"
  },
  "types": [
    {
      "name": "Config",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "version",
            "type": "u8"
          },
          {
            "name": "vault_bump",
            "type": "u8"
          },
          {
            "name": "vault_authority_bump",
            "type": "u8"
          },
          {
            "name": "decimals",
            "type": "u8"
          },
          {
            "name": "_padding",
            "type": {
              "array": [
                "u8",
                4
              ]
            }
          },
          {
            "name": "admin",
            "type": "pubkey"
          },
          {
            "name": "mint",
            "type": "pubkey"
          },
          {
            "name": "token_program",
            "type": "pubkey"
          },
          {
            "name": "deployment_id",
            "type": {
              "array": [
                "u8",
                32
              ]
            }
          },
          {
            "name": "tab_count",
            "type": "u64"
          },
          {
            "name": "fees_owed",
            "type": "u64"
          },
          {
            "name": "params",
            "type": {
              "defined": {
                "name": "Params"
              }
            }
          },
          {
            "name": "pending",
            "type": {
              "defined": {
                "name": "Params"
              }
            }
          },
          {
            "name": "pending_effective_at",
            "type": "i64"
          },
          {
            "name": "outgoing_sequencer",
            "type": "pubkey"
          },
          {
            "name": "outgoing_sequencer_until",
            "type": "i64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "Tab",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "version",
            "type": "u8"
          },
          {
            "name": "bump",
            "type": "u8"
          },
          {
            "name": "_padding",
            "type": {
              "array": [
                "u8",
                6
              ]
            }
          },
          {
            "name": "config",
            "type": "pubkey"
          },
          {
            "name": "owner",
            "type": "pubkey"
          },
          {
            "name": "incarnation",
            "type": "u64"
          },
          {
            "name": "balance",
            "type": "u64"
          },
          {
            "name": "withdraw_amount",
            "type": "u64"
          },
          {
            "name": "withdraw_requested_at",
            "type": "i64"
          },
          {
            "name": "slots",
            "type": {
              "array": [
                {
                  "defined": {
                    "name": "Slot"
                  }
                },
                5
              ]
            }
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "Credit",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "version",
            "type": "u8"
          },
          {
            "name": "bump",
            "type": "u8"
          },
          {
            "name": "_padding",
            "type": {
              "array": [
                "u8",
                6
              ]
            }
          },
          {
            "name": "config",
            "type": "pubkey"
          },
          {
            "name": "wallet",
            "type": "pubkey"
          },
          {
            "name": "amount",
            "type": "u64"
          },
          {
            "name": "rent_payer",
            "type": "pubkey"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "Params",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "sequencer",
            "type": "pubkey"
          },
          {
            "name": "fee_destination",
            "type": "pubkey"
          },
          {
            "name": "withdrawal_delay",
            "type": "i64"
          },
          {
            "name": "top_up_window",
            "type": "i64"
          },
          {
            "name": "fee_bps",
            "type": "u16"
          },
          {
            "name": "_padding",
            "type": {
              "array": [
                "u8",
                6
              ]
            }
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "Slot",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "key",
            "type": "pubkey"
          },
          {
            "name": "key_kind",
            "type": "u8"
          },
          {
            "name": "_padding",
            "type": {
              "array": [
                "u8",
                7
              ]
            }
          },
          {
            "name": "expires_at",
            "type": "i64"
          },
          {
            "name": "valid_until",
            "type": "i64"
          },
          {
            "name": "cap",
            "type": "u64"
          },
          {
            "name": "spent",
            "type": "u64"
          },
          {
            "name": "epoch",
            "type": "u64"
          },
          {
            "name": "last_seq",
            "type": "u32"
          },
          {
            "name": "last_count",
            "type": "u16"
          },
          {
            "name": "_padding2",
            "type": {
              "array": [
                "u8",
                2
              ]
            }
          },
          {
            "name": "last_total",
            "type": "u64"
          },
          {
            "name": "last_entries_hash",
            "type": {
              "array": [
                "u8",
                32
              ]
            }
          },
          {
            "name": "last_settled_at",
            "type": "i64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "AmountArgs",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "amount",
            "type": "u64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "SlotArgs",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "slot",
            "type": "u8"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "AddSignerArgs",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "slot",
            "type": "u8"
          },
          {
            "name": "key",
            "type": "pubkey"
          },
          {
            "name": "expires_at",
            "type": "i64"
          },
          {
            "name": "cap",
            "type": "u64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "ConfigInitialized",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "config",
            "type": "pubkey"
          },
          {
            "name": "mint",
            "type": "pubkey"
          },
          {
            "name": "sequencer",
            "type": "pubkey"
          },
          {
            "name": "deployment_id",
            "type": {
              "array": [
                "u8",
                32
              ]
            }
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "ConfigUpdateScheduled",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "config",
            "type": "pubkey"
          },
          {
            "name": "effective_at",
            "type": "i64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "TabOpened",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "tab",
            "type": "pubkey"
          },
          {
            "name": "owner",
            "type": "pubkey"
          },
          {
            "name": "incarnation",
            "type": "u64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "Deposited",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "tab",
            "type": "pubkey"
          },
          {
            "name": "amount",
            "type": "u64"
          },
          {
            "name": "balance",
            "type": "u64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "SignerAdded",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "tab",
            "type": "pubkey"
          },
          {
            "name": "slot",
            "type": "u8"
          },
          {
            "name": "key",
            "type": "pubkey"
          },
          {
            "name": "expires_at",
            "type": "i64"
          },
          {
            "name": "cap",
            "type": "u64"
          },
          {
            "name": "valid_until",
            "type": "i64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "SignerRemoved",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "tab",
            "type": "pubkey"
          },
          {
            "name": "slot",
            "type": "u8"
          },
          {
            "name": "valid_until",
            "type": "i64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "WithdrawRequested",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "tab",
            "type": "pubkey"
          },
          {
            "name": "amount",
            "type": "u64"
          },
          {
            "name": "available_at",
            "type": "i64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "Withdrawn",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "tab",
            "type": "pubkey"
          },
          {
            "name": "amount",
            "type": "u64"
          },
          {
            "name": "balance",
            "type": "u64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "TabClosed",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "tab",
            "type": "pubkey"
          },
          {
            "name": "amount",
            "type": "u64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "StreamSettled",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "tab",
            "type": "pubkey"
          },
          {
            "name": "slot",
            "type": "u8"
          },
          {
            "name": "top_up",
            "type": "u8"
          },
          {
            "name": "epoch",
            "type": "u64"
          },
          {
            "name": "seq",
            "type": "u32"
          },
          {
            "name": "paid",
            "type": "u64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "PayeePaid",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "wallet",
            "type": "pubkey"
          },
          {
            "name": "net",
            "type": "u64"
          },
          {
            "name": "fee",
            "type": "u64"
          },
          {
            "name": "credited",
            "type": "u8"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "CreditClaimed",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "wallet",
            "type": "pubkey"
          },
          {
            "name": "amount",
            "type": "u64"
          }
        ],
        "kind": "struct"
      }
    },
    {
      "name": "FeesCollected",
      "repr": {
        "kind": "c",
        "packed": true
      },
      "serialization": "bytemuck",
      "type": {
        "fields": [
          {
            "name": "amount",
            "type": "u64"
          }
        ],
        "kind": "struct"
      }
    }
  ]
} as const;
