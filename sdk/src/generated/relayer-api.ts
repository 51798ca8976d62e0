// Generated from api/openapi.json by sdk/scripts/generate.mjs. Do not edit: run
// `npm run generate` after it changes.

export interface paths {
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics. */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Whether the relayer is up, the deployment it sequences, and whether it reaches the chain. */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This API's OpenAPI document. */
        get: operations["openapi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/payees/{wallet}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tips naming a wallet, by the status of their stream epoch. */
        get: operations["payee"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/payees/{wallet}/receipts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The newest receipt of every stream epoch that names a wallet, oldest first. */
        get: operations["payee_receipts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/payees/{wallet}/receipts/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Server-sent events: `receipt` for each new receipt naming the wallet, `lagged` when
         *     some were dropped (fetch them with the receipts route).
         */
        get: operations["payee_receipt_events"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/settlements": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The settlement transactions the relayer recorded, oldest first: what each carries
         *     and whether it landed.
         */
        get: operations["settlements"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/states": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Submits signed states of any streams at once; answers with each one's receipt or
         *     refusal once every receipted state is durable.
         */
        post: operations["submit_states"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * What the relayer holds: stream epochs by status, what is still to be paid on chain
         *     and since when, and how many settlement transactions it recorded.
         */
        get: operations["status"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/streams/{tab}/{slot}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The state the next tip of a stream must extend, and its last receipt. */
        get: operations["stream"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/streams/{tab}/{slot}/states": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Submits the next state of a stream, signed by the stream's key; answers with the
         *     sequencer's receipt once the state is durable.
         */
        post: operations["submit"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/x402/settle": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Receipts the payload's state if it pays `payTo` exactly `amount`; answers once it
         *     is durable. `transaction` is the receipt (base58 `MPR2` signature).
         */
        post: operations["settle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/x402/supported": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The scheme, network and deployment this facilitator settles. */
        get: operations["supported"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/x402/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Whether the payload's state would be receipted now and pays `payTo` exactly
         *     `amount`. Nothing is stored.
         */
        post: operations["verify"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description A token amount in base units, a decimal string on the wire as x402 has it. */
        Amount: string;
        /** @description A `/supported` kind's `extra`: the deployment a resource server's offers name. */
        DeploymentExtra: {
            /** @description The config's mint: every offer's `asset`. */
            asset: string;
            config: string;
            /** Format: int32 */
            feeBps: number;
            sequencer: string;
        };
        EntryJson: {
            amount: string;
            /** @description The payee's wallet. */
            payee: string;
        };
        ErrorBody: {
            code: components["schemas"]["ErrorCode"];
            message: string;
        };
        /** @enum {string} */
        ErrorCode: "malformed" | "payload_too_large" | "timeout" | "bad_signature" | "insufficient_funds" | "stale_state" | "policy" | "unknown_stream" | "not_found" | "method_not_allowed" | "too_many_connections" | "chain_unavailable" | "store_full" | "internal";
        /** @description The body of every non-2xx answer. */
        ErrorResponse: {
            error: components["schemas"]["ErrorBody"];
        };
        /** @description The body of both `/x402/verify` and `/x402/settle`. */
        FacilitatorRequest: {
            paymentPayload: components["schemas"]["PaymentPayload"];
            paymentRequirements: components["schemas"]["PaymentRequirements"];
            /** Format: int32 */
            x402Version: number;
        };
        Health: {
            chain_reachable: boolean;
            config: string;
            sequencer: string;
            status: string;
        };
        /** @description The `micropay` scheme's `extra`: what a client needs to pay besides the price. */
        MicropayExtra: {
            /** @description The deployment (config account) whose tabs pay. */
            config: string;
            /**
             * Format: int32
             * @description The lowest fee, in basis points, a state must sign.
             */
            feeBps: number;
            /** @description Where the client reads its stream's state (the relayer's base URL). */
            relayer: string;
            /** @description The sequencer whose receipt makes the payment final. */
            sequencer: string;
        };
        /** @description The newest receipt of one stream epoch that names a payee. */
        PayeeReceipt: {
            receipt: components["schemas"]["ReceiptJson"];
            /**
             * Format: int64
             * @description When this receipt was issued (unix milliseconds); pages are ordered by it.
             */
            receipted_at_ms: number;
            settle_tx?: string | null;
            status: components["schemas"]["StreamStatus"];
        };
        PayeeReceipts: {
            receipts: components["schemas"]["PayeeReceipt"][];
        };
        /** @description `GET /v1/payees/{wallet}`: the tips naming a wallet, by the status of their epoch. */
        PayeeSummary: {
            /**
             * @description `epochs`: stream epochs with a tip to the wallet; `tips` and `amount`: those
             *     tips, gross of the fee.
             */
            epochs: components["schemas"]["StatusTotals"][];
            wallet: string;
        };
        /** @description The client's answer: its stream's next state, signed, and the requirements it meets. */
        PaymentPayload: {
            accepted: components["schemas"]["PaymentRequirements"];
            payload: components["schemas"]["SignedStreamJson"];
            resource?: components["schemas"]["ResourceInfo"] | null;
            /** Format: int32 */
            x402Version: number;
        };
        /**
         * @description What a resource server asks for: `amount` base units of `asset` (the config's mint)
         *     to the wallet `payTo`.
         */
        PaymentRequirements: {
            amount: components["schemas"]["Amount"];
            asset: string;
            extra: components["schemas"]["MicropayExtra"];
            /** Format: int64 */
            maxTimeoutSeconds: number;
            /** @description CAIP-2, see [`solana_network`]. */
            network: string;
            payTo: string;
            scheme: string;
        };
        /** @description A receipted state: the signed state and the sequencer's `MPR2` signature over it. */
        ReceiptJson: components["schemas"]["SignedStreamJson"] & {
            receipt: string;
            /** @description The sequencer whose key signed `receipt`. */
            sequencer: string;
        };
        /** @description `GET /v1/status`. */
        RelayerStatus: {
            config: string;
            /** @description Every status that has epochs. */
            epochs: components["schemas"]["StatusTotals"][];
            /**
             * Format: int64
             * @description When the oldest pending epoch took its first tip (unix milliseconds).
             */
            oldest_pending_ms?: number | null;
            pending_amount: string;
            /**
             * Format: int64
             * @description Receipted and not yet paid on chain: the open and closed epochs.
             */
            pending_epochs: number;
            sequencer: string;
            /**
             * Format: int64
             * @description Settlement transactions recorded (sent, or about to be).
             */
            settlement_transactions: number;
        };
        ResourceInfo: {
            description?: string | null;
            mimeType?: string | null;
            url: string;
        };
        SettleResponse: {
            errorMessage?: string | null;
            errorReason?: string | null;
            network: string;
            payer?: string | null;
            success: boolean;
            /**
             * @description The sequencer's receipt of the state (base58 `MPR2` signature); empty when
             *     `success` is false. The state is final once receipted, and settles on chain in
             *     a later batch.
             */
            transaction: string;
        };
        /**
         * @description Where a settlement transaction is.
         * @enum {string}
         */
        SettlementStatus: "pending" | "landed" | "dropped";
        /** @description One settlement transaction the relayer recorded. */
        SettlementView: {
            /** @description Their total, token base units before fees. */
            amount: string;
            /**
             * Format: int64
             * @description When it was recorded, before it was sent (unix milliseconds); pages are ordered
             *     by it.
             */
            recorded_at_ms: number;
            signature: string;
            status: components["schemas"]["SettlementStatus"];
            /**
             * Format: int64
             * @description Stream epochs it settles.
             */
            streams: number;
            /**
             * Format: int64
             * @description Tips in those epochs' receipted states.
             */
            tips: number;
        };
        /** @description `GET /v1/settlements`. */
        Settlements: {
            settlements: components["schemas"]["SettlementView"][];
        };
        /** @description A state and its stream key's signature: what a payer submits. */
        SignedStreamJson: components["schemas"]["StreamStateJson"] & {
            signature: string;
        };
        /**
         * @description A state's receipt, or why it was refused (the code a single submission of it would
         *     have been answered with).
         */
        StateOutcome: components["schemas"]["StateReceipt"] | {
            error: components["schemas"]["ErrorBody"];
        };
        /**
         * @description The answer to a submitted state: the sequencer's `MPR2` signature over it. The
         *     submitter holds the state, so the answer does not echo it; everyone else gets the
         *     state with its receipt ([`ReceiptJson`]).
         */
        StateReceipt: {
            receipt: string;
            /** @description The sequencer whose key signed `receipt`. */
            sequencer: string;
        };
        /** @description Stream epochs in one status: how many, the tips they hold and their total. */
        StatusTotals: {
            /** @description Token base units, before fees. */
            amount: string;
            /** Format: int64 */
            epochs: number;
            status: components["schemas"]["StreamStatus"];
            /** Format: int64 */
            tips: number;
        };
        /**
         * @description One epoch of one stream: what its key signs (the `MPT2` message's fields, with the
         *     entries in full).
         */
        StreamStateJson: {
            /** @description Sorted by the payee's 32 address bytes. */
            entries: components["schemas"]["EntryJson"][];
            epoch: string;
            /**
             * Format: int32
             * @description The highest fee, in basis points, the payees may be charged.
             */
            fee_bps: number;
            incarnation: string;
            /** Format: int32 */
            seq: number;
            /** Format: int32 */
            slot: number;
            tab: string;
            /** @description Sum of the amounts; checked against the entries. */
            total: string;
        };
        /**
         * @description Where a receipted epoch is in its life.
         * @enum {string}
         */
        StreamStatus: "open" | "closed" | "settled" | "short" | "void";
        /**
         * @description A stream as the relayer holds it: the state the next tip must extend, and the last
         *     receipted one.
         */
        StreamView: {
            /** @description The stream key (the owner for slot 0, else the session key in the slot). */
            key: string;
            latest?: components["schemas"]["ReceiptJson"] | null;
            /**
             * @description Extend this by one tip, sign, and submit. Its `fee_bps` is the fee the relayer
             *     requires a new state to sign.
             */
            next: components["schemas"]["StreamStateJson"];
        };
        /**
         * @description States to receipt, in order. Several states of one stream may follow each other:
         *     each extends the one before it.
         */
        SubmitStates: {
            /** @description 1 to 256 signed states (`MAX_BATCH_STATES`). */
            states: components["schemas"]["SignedStreamJson"][];
        };
        /**
         * @description What became of each submitted state, in the order submitted. Every receipted state
         *     is durable when this answer is sent.
         */
        SubmittedStates: {
            results: components["schemas"]["StateOutcome"][];
        };
        SupportedKind: {
            extra: components["schemas"]["DeploymentExtra"];
            network: string;
            scheme: string;
            /** Format: int32 */
            x402Version: number;
        };
        /**
         * @description `GET /x402/supported`: the one kind this facilitator settles, and its signer (the
         *     sequencer) per network.
         */
        SupportedResponse: {
            extensions: string[];
            kinds: components["schemas"]["SupportedKind"][];
            signers: {
                [key: string]: string[];
            };
        };
        VerifyResponse: {
            invalidMessage?: string | null;
            invalidReason?: string | null;
            isValid: boolean;
            /** @description The paying tab's owner. */
            payer?: string | null;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text format */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": unknown;
                };
            };
        };
    };
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    openapi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI 3.1 document */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                };
            };
        };
    };
    payee: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The payee's wallet */
                wallet: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PayeeSummary"];
                };
            };
            /** @description Refused: the body names the code */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `internal` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    payee_receipts: {
        parameters: {
            query?: {
                /** @description Only what was issued or recorded at or after this time (unix milliseconds). */
                since_ms?: number;
                /** @description At most this many (default 100, at most 1,000). */
                limit?: number;
            };
            header?: never;
            path: {
                /** @description The payee's wallet */
                wallet: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PayeeReceipts"];
                };
            };
            /** @description Refused: the body names the code */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `internal` or `chain_unavailable` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    payee_receipt_events: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The payee's wallet */
                wallet: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description `event: receipt` with a `ReceiptJson` as data; `event: lagged` when some were dropped */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": unknown;
                };
            };
            /** @description Refused: the body names the code */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `internal` or `chain_unavailable` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    settlements: {
        parameters: {
            query?: {
                /** @description Only what was issued or recorded at or after this time (unix milliseconds). */
                since_ms?: number;
                /** @description At most this many (default 100, at most 1,000). */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Settlements"];
                };
            };
            /** @description Refused: the body names the code */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `internal` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    submit_states: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SubmitStates"];
            };
        };
        responses: {
            /** @description Each state's receipt or refusal, in the order submitted */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SubmittedStates"];
                };
            };
            /** @description `malformed`: not a batch, or no state in it */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `timeout`: the body did not arrive in time */
            408: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `payload_too_large`: over the bytes or states a batch may hold */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `internal` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    status: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RelayerStatus"];
                };
            };
            /** @description `internal` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    stream: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The tab's address */
                tab: string;
                /** @description 0 for the owner's stream, 1.. for session keys */
                slot: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StreamView"];
                };
            };
            /** @description Refused: the body names the code */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `internal` or `chain_unavailable` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    submit: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The tab's address */
                tab: string;
                /** @description The stream's slot */
                slot: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SignedStreamJson"];
            };
        };
        responses: {
            /** @description Receipted: the sequencer's receipt over the submitted state */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StateReceipt"];
                };
            };
            /** @description `malformed` */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `bad_signature` */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `insufficient_funds` */
            402: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `timeout`: the body did not arrive in time */
            408: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `stale_state`: not the stream's next state */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `payload_too_large` */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `policy`: refused by rule */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description `internal` or `chain_unavailable` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    settle: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["FacilitatorRequest"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SettleResponse"];
                };
            };
            /** @description Not a facilitator request */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    supported: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SupportedResponse"];
                };
            };
        };
    };
    verify: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["FacilitatorRequest"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VerifyResponse"];
                };
            };
            /** @description Not a facilitator request */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
}
