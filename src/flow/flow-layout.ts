/**
 * The layout of a flow's record in the flow store (flow-store.ts): where each field lives, as constants and nothing
 * else. A module of its own with no imports because esbuild, when it bundles the CLI (scripts/build-bundles.mjs,
 * minifySyntax), replaces a constant by its value only when the constant is declared at the top of a module that
 * imports nothing: every `u32[f * U32_PER_FLOW + A_PACKETS]` in the flow table then compiles to one multiply and add
 * of literals. Left as variables, each use was a load from the module's closure that the optimizing compiler cannot
 * fold (issue 7: the record layout was 4.5 % slower than separate arrays that way, and faster with literals). The
 * build fails if any of these names is left in a bundle.
 */

/**
 * State changes kept per flow: pf rises first → single → multiple at most (peer states only rise, pf.c), conntrack
 * unreplied → replied, the two-state models initial → established; 3 holds every model (10 bytes a flow less than 4
 * with 240k flows alive, issue 7), and a longer history would keep its last slot current (addEvent).
 */
export const HISTORY_SLOTS = 3;

/** packetSides bits: the flow's first packet came from side A; its latest did. */
export const PACKET_SIDE_FIRST_A = 1;
export const PACKET_SIDE_LATEST_A = 2;

/*
 * A flow's record. Each constant is the field's index within the record in units of its view's element: a Float64
 * field of slot f is `f64[f * F64_PER_FLOW + FIELD]`, a Uint32 or Int32 one `u32[f * U32_PER_FLOW + FIELD]` (or
 * i32), a Uint16 one `u16[f * U16_PER_FLOW + FIELD]`, a byte `u8[f * BYTES_PER_FLOW + FIELD]`. Doubles first (bytes
 * 0-119), then 32-bit words (120-195), 16-bit (196-201), bytes (202-219); test/flow/flow-store.test.ts checks that
 * no two fields overlap.
 */
export const BYTES_PER_FLOW = 224;
export const F64_PER_FLOW = BYTES_PER_FLOW / 8;
export const U32_PER_FLOW = BYTES_PER_FLOW / 4;
export const U16_PER_FLOW = BYTES_PER_FLOW / 2;

// Float64: packet times (µs) and byte counts (beyond 2^32 on a long flow).
export const FIRST_US = 0;
export const LAST_US = 1;
export const EXPIRES_US = 2;
export const STATE_CREATED_US = 3;
export const MAX_GAP_US = 4;
export const A_PAYLOAD_BYTES = 5;
export const A_IP_BYTES = 6;
export const A_WIRE_BYTES = 7;
export const B_PAYLOAD_BYTES = 8;
export const B_IP_BYTES = 9;
export const B_WIRE_BYTES = 10;
/**
 * Each side's first and last packet time, from four times kept in two (issue 7: 16 bytes a flow): the side that sent
 * the flow's first packet saw it at FIRST_US, and the side that sent its latest at LAST_US; the other side's first
 * and last are these, -1 before it sent any. PACKET_SIDES says which side is which (PACKET_SIDE_*). Read them through
 * sideFirstUs / sideLastUs.
 */
export const LATER_SIDE_FIRST_US = 11;
export const OTHER_SIDE_LAST_US = 12;
/**
 * The time of history entries 1 and 2 (`HISTORY_SLOTS - 1` doubles): entry 0 is always the state's creation, at
 * STATE_CREATED_US (a flow gains state once: table.ts startState). Read through historyTimeUs.
 */
export const HISTORY_AT_US = 13;

// Uint32 (u32), from byte 120. Frame numbers in 32 bits, as Wireshark counts them (frame.number is a guint32): past
// 4,294,967,295 packets they wrap (8 bytes a flow less than doubles, issue 7).
export const FIRST_FRAME = 30;
export const LAST_FRAME = 31;
export const FLOW_ID = 32;
export const DENIED_PACKETS = 33;
export const WINDOW_PACKETS = 34;
/** The canonical key's addresses, four words a side (IPv4 uses word 0). */
export const KEY_A0 = 35;
export const KEY_A1 = 36;
export const KEY_A2 = 37;
export const KEY_A3 = 38;
export const KEY_B0 = 39;
export const KEY_B1 = 40;
export const KEY_B2 = 41;
export const KEY_B3 = 42;
export const A_PACKETS = 43;
export const B_PACKETS = 44;

// Int32 (i32), from byte 180.
export const KEY_HASH = 45;
/**
 * The table's timing wheel as doubly linked lists through the flows (no array entry or object per flow): the second
 * of the wheel slot holding the flow (-1: in none) and its neighbours there (-1: none). A free slot is in no wheel
 * list: its WHEEL_NEXT links the free list instead.
 */
export const WHEEL_SEC = 46;
export const WHEEL_NEXT = 47;
export const WHEEL_PREV = 48;

// Uint16 (u16), from byte 196.
export const PORT_A = 98;
export const PORT_B = 99;
/** Service names by index (FlowStore.serviceName; 0: none). */
export const SERVICE_INDEX = 100;

// Bytes (u8), from byte 202.
export const PEER_STATE_A = 202;
export const PEER_STATE_B = 203;
export const PACKET_SIDES = 204;
export const IP_VERSION = 205;
/** 0 none, 1 side A, 2 side B. */
export const LOCAL_SIDE = 206;
/** 0 side A opened the flow, 1 side B. */
export const OPENER = 207;
export const HAS_STATE = 208;
export const SEEN_REPLY = 209;
/** SERVICE_BY_NAMES index. */
export const SERVICE_BY_CODE = 210;
/**
 * The role of a packet from side A (bits 0-1) and from side B (bits 2-3) by the addresses alone (table.ts
 * ROLE_BY_CODE), set when the flow is created: a flow's addresses and the local side never change.
 */
export const ROLES = 211;
export const TIMEOUT_KEY_INDEX = 212;
export const HISTORY_COUNT = 213;
/** HISTORY_SLOTS bytes each. */
export const HISTORY_KEY_INDEX = 214;
export const HISTORY_KIND = 217;

// Codes the fields hold.
/** PEER_STATE_A / PEER_STATE_B under pf: no traffic yet, single, multiple (pfvar.h PFUDPS_*). */
export const PF_NO_TRAFFIC = 0;
export const PF_SINGLE = 1;
export const PF_MULTIPLE = 2;
/** SERVICE_BY_CODE: 2 for a payload fingerprint (SERVICE_BY_NAMES in flow-store.ts). */
export const SERVICE_BY_PAYLOAD = 2;
/** OPENER: side A opened the flow, side B did. */
export const OPENER_A = 0;
export const OPENER_B = 1;

// The flow table's own numbers (table.ts), here so that they are literals too.
/** A timeout model's family: which state machine the table runs. */
export const FAMILY_PF = 0;
export const FAMILY_CONNTRACK = 1;
export const FAMILY_TWO_STATE = 2;
export const FAMILY_IDLE = 3;
/** The timing wheel: 1 s a slot, ~68 minutes before a slot is revisited. */
export const WHEEL_SLOTS = 4096;
export const WHEEL_MASK = WHEEL_SLOTS - 1;
export const US_PER_SEC = 1_000_000;
