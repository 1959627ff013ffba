// Hostile-input corpus, data only: WebSocket frames a desk must refuse (FRAMES), odd frames it may
// accept but only into the sender's own conversation (ACCEPTED), and the HTTP requests (requests.js).
//
// A frame is a raw string (sent as a text frame exactly as written), or a function of the context
// the runner builds: `{ A, B, C, T, X, cid }` where A, B, C (and the throwaway T) are visitors of
// desk 1, X a visitor of desk 2 (each `{ userId, token }`), and `cid` the clientMsgIds of stored
// messages (`cid.a`: A's, `cid.b`: B's, `cid.reply`: the admin's reply to A).
// `as`: the socket it is sent on (visitor A or the admin). `binary: true`: sent as a binary frame.
// A Buffer is sent as a text frame of those bytes (not necessarily UTF-8). `code`: the error code
// docs/protocol.md gives; `echo`: the clientMsgId the error must carry (a value or a function of the
// context; none when omitted).
export { REQUESTS } from './requests.js';

const deep = (n, open, close) => open.repeat(n) + close.repeat(n);
const msg = (text, extra = '') => `{"type":"message","message":${JSON.stringify(text)}${extra}}`;
const big = (n) => 'x'.repeat(n);

export const FRAMES = [
  // ---- not JSON, or not an object: bad_json, never echoed --------------------------------------
  { name: 'unterminated object', as: 'visitor', frame: '{nope', code: 'bad_json' },
  { name: 'unterminated string', as: 'visitor', frame: '{"type":"message","message":"never closed', code: 'bad_json' },
  { name: 'empty text frame', as: 'visitor', frame: '', code: 'bad_json' },
  { name: 'whitespace-only frame', as: 'visitor', frame: ' \n\t\r ', code: 'bad_json' },
  { name: 'array where the object belongs', as: 'visitor', frame: '[{"type":"ping"}]', code: 'bad_json' },
  { name: 'JSON string holding a frame', as: 'visitor', frame: '"{\\"type\\":\\"ping\\"}"', code: 'bad_json' },
  { name: 'null', as: 'admin', frame: 'null', code: 'bad_json' },
  { name: 'two objects in one frame', as: 'visitor', frame: '{"type":"ping"}{"type":"ping"}', code: 'bad_json' },
  { name: 'trailing comma', as: 'visitor', frame: '{"type":"ping",}', code: 'bad_json' },
  { name: 'single quotes', as: 'visitor', frame: "{'type':'ping'}", code: 'bad_json' },
  { name: 'NaN literal', as: 'visitor', frame: '{"type":"history","before":NaN}', code: 'bad_json' },
  { name: 'byte order mark before the object', as: 'visitor', frame: '\uFEFF{"type":"ping"}', code: 'bad_json' },
  { name: 'number out of range (1e400)', as: 'visitor', frame: '{"type":"history","before":1e400}', code: 'bad_json' },
  { name: 'valid clientMsgId in a broken frame is not echoed', as: 'visitor', frame: '{"type":"message","clientMsgId":"j-1",', code: 'bad_json' },
  // deep nesting: serde_json stops at 128 levels, so these are refused as a whole, even in a field
  // no frame reads
  { name: '1000 nested arrays', as: 'visitor', frame: deep(1000, '[', ']'), code: 'bad_json' },
  { name: '1000 nested objects in an ignored field', as: 'visitor',
    frame: `{"type":"ping","x":${deep(999, '{"a":', '}').replace('{"a":}', '{"a":{}}')}}`, code: 'bad_json' },
  { name: '1000 nested arrays beside a valid message', as: 'visitor', frame: msg('nested', `,"pad":${deep(1000, '[', ']')}`), code: 'bad_json' },
  { name: '1000 nested arrays as an admin targetUserId', as: 'admin',
    frame: `{"type":"message","message":"x","targetUserId":${deep(1000, '[', ']')}}`, code: 'bad_json' },
  // control characters and invalid UTF-16: raw control characters are not allowed in JSON strings,
  // and serde_json refuses escaped lone surrogates anywhere in the frame
  { name: 'raw BEL inside a string', as: 'visitor', frame: msg('bell').replace('bell', 'be\u0007ll'), code: 'bad_json' },
  { name: 'raw newline inside a string', as: 'visitor', frame: msg('two').replace('two', 'tw\no'), code: 'bad_json' },
  { name: 'raw NUL between tokens', as: 'visitor', frame: '{"type":"ping"\u0000}', code: 'bad_json' },
  { name: 'lone leading surrogate \\ud800 in the message', as: 'visitor',
    frame: '{"type":"message","message":"a\\ud800b","clientMsgId":"s-1"}', code: 'bad_json' },
  { name: 'lone trailing surrogate \\udfff in the message', as: 'visitor', frame: '{"type":"message","message":"\\udfff"}', code: 'bad_json' },
  { name: 'surrogate pair in the wrong order', as: 'visitor', frame: '{"type":"message","message":"\\ude00\\ud83d"}', code: 'bad_json' },
  { name: 'lone surrogate in an ignored field', as: 'visitor', frame: '{"type":"ping","pad":"\\ud800"}', code: 'bad_json' },
  { name: 'lone surrogate in an admin targetUserId', as: 'admin',
    frame: (c) => `{"type":"message","message":"x","targetUserId":"${c.A.userId}\\ud800"}`, code: 'bad_json' },
  { name: 'text frame of invalid UTF-8 (CESU-8 surrogate bytes)', as: 'visitor',
    frame: Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d]), code: 'bad_json' },
  // binary frames are never read, whatever they hold
  { name: 'binary frame holding a valid message', as: 'visitor', binary: true, frame: msg('binary', ',"clientMsgId":"bin-1"'), code: 'bad_json' },
  { name: 'binary frame holding the exact ping', as: 'visitor', binary: true, frame: '{"type":"ping"}', code: 'bad_json' },
  { name: 'binary frame holding an admin reply', as: 'admin', binary: true,
    frame: (c) => msg('binary', `,"targetUserId":"${c.A.userId}"`), code: 'bad_json' },

  // ---- type missing, of the wrong type, or not a client frame: unknown_type ---------------------
  { name: 'empty object', as: 'visitor', frame: '{}', code: 'unknown_type' },
  { name: 'type is a number', as: 'visitor', frame: '{"type":1,"message":"x"}', code: 'unknown_type' },
  { name: 'type is null', as: 'visitor', frame: '{"type":null,"message":"x"}', code: 'unknown_type' },
  { name: 'type is an array', as: 'admin', frame: '{"type":["message"],"message":"x"}', code: 'unknown_type' },
  { name: 'type is an object', as: 'visitor', frame: '{"type":{"type":"ping"}}', code: 'unknown_type' },
  { name: 'type in capitals', as: 'visitor', frame: '{"type":"MESSAGE","message":"x","clientMsgId":"u-1"}', code: 'unknown_type', echo: 'u-1' },
  { name: 'type with an escaped NUL', as: 'visitor', frame: '{"type":"message\\u0000","message":"x"}', code: 'unknown_type' },
  { name: 'type with a trailing space', as: 'admin', frame: '{"type":"read ","userId":"x"}', code: 'unknown_type' },
  { name: 'type __proto__', as: 'visitor', frame: '{"type":"__proto__"}', code: 'unknown_type' },
  { name: 'type hidden in __proto__', as: 'visitor', frame: '{"__proto__":{"type":"message","message":"x"}}', code: 'unknown_type' },
  { name: 'type hidden in constructor.prototype', as: 'admin', frame: '{"constructor":{"prototype":{"type":"ping"}}}', code: 'unknown_type' },
  { name: 'doubled type key, the last one unknown', as: 'visitor', frame: '{"type":"message","message":"dup","type":"dance"}', code: 'unknown_type' },
  { name: 'a server frame type (welcome)', as: 'visitor',
    frame: (c) => `{"type":"welcome","userId":"${c.B.userId}","token":"${c.B.token}"}`, code: 'unknown_type' },
  { name: 'a server frame type (ack) from an admin', as: 'admin',
    frame: '{"type":"ack","clientMsgId":"k-1","id":"x","seq":1}', code: 'unknown_type', echo: 'k-1' },
  { name: '70 KB frame of garbage (size is checked first)', as: 'visitor', frame: big(70 * 1024), code: 'too_long' },
  { name: '70 KB frame with a short message and a long pad', as: 'admin',
    frame: (c) => msg('hi', `,"targetUserId":"${c.A.userId}","clientMsgId":"p-1","pad":"${big(70 * 1024)}"`), code: 'too_long' },

  // ---- known type, wrong shape: bad_frame -------------------------------------------------------
  { name: 'message without message', as: 'visitor', frame: '{"type":"message","clientMsgId":"f-1"}', code: 'bad_frame', echo: 'f-1' },
  { name: 'message is a number', as: 'visitor', frame: '{"type":"message","message":5,"clientMsgId":"f-2"}', code: 'bad_frame', echo: 'f-2' },
  { name: 'message is an array', as: 'admin', frame: (c) => `{"type":"message","message":["hi"],"targetUserId":"${c.A.userId}"}`, code: 'bad_frame' },
  { name: 'message is null', as: 'visitor', frame: '{"type":"message","message":null}', code: 'bad_frame' },
  { name: 'message is an object with __proto__', as: 'visitor', frame: '{"type":"message","message":{"__proto__":"x"}}', code: 'bad_frame' },
  { name: 'doubled message key, the last one a number', as: 'visitor', frame: '{"type":"message","message":"ok","message":5}', code: 'bad_frame' },
  { name: 'clientMsgId of 101 characters (not echoed)', as: 'visitor', frame: msg('hi', `,"clientMsgId":"${big(101)}"`), code: 'bad_frame' },
  { name: 'clientMsgId empty', as: 'visitor', frame: msg('hi', ',"clientMsgId":""'), code: 'bad_frame' },
  { name: 'clientMsgId a number', as: 'admin', frame: (c) => msg('hi', `,"targetUserId":"${c.A.userId}","clientMsgId":7`), code: 'bad_frame' },
  { name: 'clientMsgId an object', as: 'visitor', frame: msg('hi', ',"clientMsgId":{"toString":"x"}'), code: 'bad_frame' },
  { name: 'history before 0', as: 'visitor', frame: '{"type":"history","before":0}', code: 'bad_frame' },
  { name: 'history before -1', as: 'admin', frame: (c) => `{"type":"history","userId":"${c.A.userId}","before":-1}`, code: 'bad_frame' },
  { name: 'history before "x"', as: 'visitor', frame: '{"type":"history","before":"x"}', code: 'bad_frame' },
  { name: 'history before 1.5', as: 'visitor', frame: '{"type":"history","before":1.5}', code: 'bad_frame' },
  { name: 'history before 2^63 (over i64)', as: 'visitor', frame: '{"type":"history","before":9223372036854775808}', code: 'bad_frame' },
  { name: 'history limit 0', as: 'visitor', frame: '{"type":"history","limit":0}', code: 'bad_frame' },
  { name: 'history limit -1', as: 'admin', frame: (c) => `{"type":"history","userId":"${c.A.userId}","limit":-1}`, code: 'bad_frame' },
  { name: 'history limit 2^32 (over u32)', as: 'visitor', frame: '{"type":"history","limit":4294967296}', code: 'bad_frame' },
  { name: 'history limit 1e3 (a float)', as: 'visitor', frame: '{"type":"history","limit":1e3}', code: 'bad_frame' },
  { name: 'history userId a number', as: 'visitor', frame: '{"type":"history","userId":5}', code: 'bad_frame' },
  { name: 'admin history without userId', as: 'admin', frame: '{"type":"history"}', code: 'bad_frame' },
  { name: 'admin read without userId', as: 'admin', frame: '{"type":"read"}', code: 'bad_frame' },
  { name: 'admin read with userId an array', as: 'admin', frame: (c) => `{"type":"read","userId":["${c.A.userId}"]}`, code: 'bad_frame' },
  { name: 'admin targetUserId an array', as: 'admin', frame: (c) => msg('hi', `,"targetUserId":["${c.A.userId}"]`), code: 'bad_frame' },
  { name: 'admin targetUserId a number', as: 'admin', frame: msg('hi', ',"targetUserId":1'), code: 'bad_frame' },
  // the shape is checked before the rights: a visitor's read without userId is malformed first
  { name: 'visitor read without userId', as: 'visitor', frame: '{"type":"read"}', code: 'bad_frame' },
  { name: 'visitor targetUserId a number', as: 'visitor', frame: msg('hi', ',"targetUserId":1'), code: 'bad_frame' },

  // ---- agents' names that pass for blank, for a visitor's default name or for the verified mark ---
  { name: 'profile named U+3164 HANGUL FILLER', as: 'admin', frame: '{"type":"profile","name":"\u3164"}', code: 'bad_frame' },
  { name: 'profile named U+2800 BRAILLE PATTERN BLANK x3', as: 'admin', frame: '{"type":"profile","name":"\u2800\u2800\u2800"}', code: 'bad_frame' },
  { name: 'profile named Hangul choseong + jungseong fillers', as: 'admin', frame: '{"type":"profile","name":"\u115f\u1160"}', code: 'bad_frame' },
  { name: 'profile named U+FFA0 HALFWIDTH HANGUL FILLER', as: 'admin', frame: '{"type":"profile","name":"\uffa0"}', code: 'bad_frame' },
  { name: 'profile named a zero-width joiner and a word joiner', as: 'admin', frame: '{"type":"profile","name":"\u200d\u2060"}', code: 'bad_frame' },
  { name: 'profile with a filler between letters', as: 'admin', frame: '{"type":"profile","name":"Ow\u3164ner"}', code: 'bad_frame' },
  { name: 'profile with a check mark', as: 'admin', frame: '{"type":"profile","name":"Owner \u2713"}', code: 'bad_frame' },
  { name: 'profile with a heavy check mark emoji', as: 'admin', frame: '{"type":"profile","name":"\u2714\ufe0f Support"}', code: 'bad_frame' },
  { name: 'profile saying verified', as: 'admin', frame: '{"type":"profile","name":"Support (Verified)"}', code: 'bad_frame' },
  { name: "profile named like a visitor's default", as: 'admin', frame: '{"type":"profile","name":"Visitor 3F0C1A"}', code: 'bad_frame' },
  { name: 'profile named like a default, in Cyrillic and full-width digits', as: 'admin',
    frame: '{"type":"profile","name":"V\u0456sitor \uff13F0C1A"}', code: 'bad_frame' },
  { name: 'profile with a right-to-left mark', as: 'admin', frame: '{"type":"profile","name":"Ana\u200f"}', code: 'bad_frame' },
  { name: 'invite of someone named with a ballot box check', as: 'admin', frame: '{"type":"invite","name":"\u2611 Ana","role":"agent"}', code: 'bad_frame' },
  { name: 'invite of someone named U+3164', as: 'admin', frame: '{"type":"invite","name":"\u3164","role":"agent"}', code: 'bad_frame' },

  // ---- a visitor acting as an admin or reaching another conversation: forbidden -----------------
  { name: "visitor message to B's targetUserId", as: 'visitor',
    frame: (c) => msg('psst', `,"targetUserId":"${c.B.userId}","clientMsgId":"v-1"`), code: 'forbidden', echo: 'v-1' },
  { name: "visitor message to desk 2's visitor", as: 'visitor', frame: (c) => msg('psst', `,"targetUserId":"${c.X.userId}"`), code: 'forbidden' },
  { name: 'visitor message to its own targetUserId', as: 'visitor', frame: (c) => msg('me', `,"targetUserId":"${c.A.userId}"`), code: 'forbidden' },
  { name: 'visitor message with an empty targetUserId', as: 'visitor', frame: msg('me', ',"targetUserId":""'), code: 'forbidden' },
  { name: "visitor targetUserId doubled, null then B's (the last counts)", as: 'visitor',
    frame: (c) => msg('x', `,"targetUserId":null,"targetUserId":"${c.B.userId}"`), code: 'forbidden' },
  { name: "visitor read of B's conversation", as: 'visitor', frame: (c) => `{"type":"read","userId":"${c.B.userId}"}`, code: 'forbidden' },
  { name: 'visitor read of its own conversation', as: 'visitor', frame: (c) => `{"type":"read","userId":"${c.A.userId}"}`, code: 'forbidden' },
  { name: "visitor history of B", as: 'visitor', frame: (c) => `{"type":"history","userId":"${c.B.userId}","limit":200}`, code: 'forbidden' },
  { name: "visitor history of desk 2's visitor", as: 'visitor', frame: (c) => `{"type":"history","userId":"${c.X.userId}"}`, code: 'forbidden' },
  { name: 'visitor history of "admin"', as: 'visitor', frame: '{"type":"history","userId":"admin"}', code: 'forbidden' },
  { name: "visitor history of B with B's token beside it", as: 'visitor',
    frame: (c) => `{"type":"history","userId":"${c.B.userId}","token":"${c.B.token}","clientMsgId":"v-2"}`, code: 'forbidden', echo: 'v-2' },

  // ---- admin frames naming no visitor of this desk: missing_target, unknown_user ---------------
  { name: 'admin message without targetUserId', as: 'admin', frame: msg('to whom?', ',"clientMsgId":"m-1"'), code: 'missing_target', echo: 'm-1' },
  { name: 'admin message with targetUserId null', as: 'admin', frame: msg('to whom?', ',"targetUserId":null'), code: 'missing_target' },
  { name: 'admin message with userId instead of targetUserId', as: 'admin',
    frame: (c) => msg('to A?', `,"userId":"${c.A.userId}"`), code: 'missing_target' },
  { name: 'admin message to an unknown uuid', as: 'admin',
    frame: msg('ghost', ',"targetUserId":"00000000-0000-4000-8000-000000000000"'), code: 'unknown_user' },
  { name: "admin message to desk 2's visitor", as: 'admin',
    frame: (c) => msg('cross-desk', `,"targetUserId":"${c.X.userId}","clientMsgId":"m-2"`), code: 'unknown_user', echo: 'm-2' },
  { name: "admin message to desk 2's visitor reusing the reply's clientMsgId", as: 'admin',
    frame: (c) => msg('replay', `,"targetUserId":"${c.X.userId}","clientMsgId":"${c.cid.reply}"`), code: 'unknown_user', echo: (c) => c.cid.reply },
  { name: 'admin message to an empty targetUserId', as: 'admin', frame: msg('x', ',"targetUserId":""'), code: 'unknown_user' },
  { name: 'admin message to "admin" (the admin sockets\' tag)', as: 'admin', frame: msg('x', ',"targetUserId":"admin"'), code: 'unknown_user' },
  { name: "admin message to A's id in capitals", as: 'admin',
    frame: (c) => msg('x', `,"targetUserId":"${c.A.userId.toUpperCase()}"`), code: 'unknown_user' },
  { name: "admin message to A's id with a trailing space", as: 'admin',
    frame: (c) => msg('x', `,"targetUserId":"${c.A.userId} "`), code: 'unknown_user' },
  { name: 'admin message to an SQL injection', as: 'admin', frame: msg('x', `,"targetUserId":"' OR '1'='1"`), code: 'unknown_user' },
  { name: 'admin message to a LIKE wildcard', as: 'admin', frame: msg('x', ',"targetUserId":"%"'), code: 'unknown_user' },
  { name: "admin message with A's id doubled, the last one unknown", as: 'admin',
    frame: (c) => msg('x', `,"targetUserId":"${c.A.userId}","targetUserId":"nobody"`), code: 'unknown_user' },
  { name: "admin read of desk 2's visitor", as: 'admin', frame: (c) => `{"type":"read","userId":"${c.X.userId}"}`, code: 'unknown_user' },
  { name: 'admin read of an empty userId', as: 'admin', frame: '{"type":"read","userId":""}', code: 'unknown_user' },
  { name: "admin history of desk 2's visitor", as: 'admin', frame: (c) => `{"type":"history","userId":"${c.X.userId}"}`, code: 'unknown_user' },

  // ---- deleting and blocking (storage exhaustion's cleanup, turned against the desk) -------------
  // A visitor cannot delete or block anyone, itself included; an admin cannot reach another desk's
  // visitor; malformed frames are refused before any right is checked.
  { name: "visitor delete of B's conversation", as: 'visitor', frame: (c) => `{"type":"delete","userId":"${c.B.userId}"}`, code: 'forbidden' },
  { name: 'visitor delete of its own conversation', as: 'visitor', frame: (c) => `{"type":"delete","userId":"${c.A.userId}"}`, code: 'forbidden' },
  { name: "visitor block of B", as: 'visitor', frame: (c) => `{"type":"block","userId":"${c.B.userId}"}`, code: 'forbidden' },
  { name: 'visitor list of the blocked', as: 'visitor', frame: '{"type":"list","view":"blocked"}', code: 'forbidden' },
  { name: 'delete without userId', as: 'admin', frame: '{"type":"delete"}', code: 'bad_frame' },
  { name: 'block with a numeric userId', as: 'admin', frame: '{"type":"block","userId":7}', code: 'bad_frame' },
  { name: 'delete with a userId array', as: 'admin', frame: (c) => `{"type":"delete","userId":["${c.A.userId}"]}`, code: 'bad_frame' },
  { name: "admin delete of desk 2's visitor", as: 'admin', frame: (c) => `{"type":"delete","userId":"${c.X.userId}"}`, code: 'unknown_user' },
  { name: "admin block of desk 2's visitor", as: 'admin', frame: (c) => `{"type":"block","userId":"${c.X.userId}"}`, code: 'unknown_user' },
  { name: 'admin delete of an SQL wildcard', as: 'admin', frame: '{"type":"delete","userId":"%"}', code: 'unknown_user' },
  { name: "admin delete of A's id in capitals", as: 'admin',
    frame: (c) => `{"type":"delete","userId":"${c.A.userId.toUpperCase()}"}`, code: 'unknown_user' },
  { name: 'list of an unknown view', as: 'admin', frame: '{"type":"list","view":"deleted"}', code: 'bad_frame' },

  // ---- who and where, saved replies: fields checked, only one's own context, agents' frames --------
  { name: 'a context with a javascript: URL', as: 'visitor', frame: '{"type":"context","url":"javascript:alert(1)"}', code: 'bad_frame' },
  { name: 'a context with a 2049-character URL', as: 'visitor', frame: `{"type":"context","url":"https://x.example/${big(2031)}"}`, code: 'bad_frame' },
  { name: "a context naming B's userId", as: 'visitor', frame: (c) => `{"type":"context","url":"https://x.example/","userId":"${c.B.userId}"}`, code: 'forbidden' },
  { name: "an anonymous visitor's attributes", as: 'visitor', frame: '{"type":"context","url":"https://x.example/","attributes":{"plan":"pro"}}', code: 'forbidden' },
  { name: 'an attribute holding an object', as: 'visitor', frame: '{"type":"context","url":"https://x.example/","attributes":{"a":{"b":1}}}', code: 'bad_frame' },
  { name: 'a time zone climbing directories', as: 'visitor', frame: '{"type":"context","url":"https://x.example/","timeZone":"../../etc/passwd"}', code: 'bad_frame' },
  { name: 'a visitor asking for saved replies', as: 'visitor', frame: '{"type":"replies"}', code: 'forbidden' },
  { name: 'a visitor saving a reply', as: 'visitor', frame: '{"type":"save_reply","title":"t","shortcut":"t","text":"t"}', code: 'forbidden' },
  { name: "admin context of desk 2's visitor", as: 'admin', frame: (c) => `{"type":"context","userId":"${c.X.userId}"}`, code: 'unknown_user' },
  { name: "admin writing A's context", as: 'admin', frame: (c) => `{"type":"context","userId":"${c.A.userId}","url":"https://x.example/"}`, code: 'bad_frame' },
  { name: 'admin deleting an unknown saved reply', as: 'admin', frame: '{"type":"delete_reply","id":"%"}', code: 'unknown_reply' },
  { name: 'admin saving a reply with a shortcut of spaces', as: 'admin', frame: '{"type":"save_reply","title":"t","shortcut":"a b","text":"t"}', code: 'bad_frame' },

  // ---- message text: empty_message, too_long (limits come before rights) ------------------------
  { name: 'empty message', as: 'visitor', frame: msg(''), code: 'empty_message' },
  // Invisible text is empty too; control characters other than line breaks and tabs are refused.
  { name: 'a zero-width space only', as: 'visitor', frame: msg('\u200b', ',"clientMsgId":"e-2"'), code: 'empty_message', echo: 'e-2' },
  { name: 'BOM, zero-width joiner and soft hyphen only', as: 'visitor', frame: msg('\ufeff\u200d\u00ad'), code: 'empty_message' },
  { name: 'an escaped NUL only', as: 'visitor', frame: '{"type":"message","message":"\\u0000"}', code: 'empty_message' },
  { name: 'a NUL inside the text', as: 'visitor', frame: msg('hi\u0000there'), code: 'bad_frame' },
  { name: 'an ANSI escape sequence', as: 'visitor', frame: msg('\u001b[31mred'), code: 'bad_frame' },
  { name: 'an admin reply with a bell character', as: 'admin', frame: (c) => msg('ding\u0007', `,"targetUserId":"${c.A.userId}"`),
    code: 'bad_frame' },
  { name: 'ASCII white space only', as: 'visitor', frame: msg(' \n\t\r ', ',"clientMsgId":"e-1"'), code: 'empty_message', echo: 'e-1' },
  { name: 'Unicode white space only (NBSP, ideographic space, line separator)', as: 'admin',
    frame: (c) => msg('\u00a0\u3000\u2028', `,"targetUserId":"${c.A.userId}"`), code: 'empty_message' },
  { name: "empty message to B's targetUserId (empty before forbidden)", as: 'visitor',
    frame: (c) => msg('', `,"targetUserId":"${c.B.userId}"`), code: 'empty_message' },
  { name: '4001 ASCII characters', as: 'visitor', frame: msg(big(4001), ',"clientMsgId":"l-1"'), code: 'too_long', echo: 'l-1' },
  { name: '4001 emoji (scalar values, not UTF-16 units)', as: 'admin',
    frame: (c) => msg('😀'.repeat(4001), `,"targetUserId":"${c.A.userId}"`), code: 'too_long' },
  { name: '4001 characters written as \\u escapes', as: 'visitor',
    frame: `{"type":"message","message":"${'\\u0041'.repeat(4001)}"}`, code: 'too_long' },
  { name: "4001 characters to B's targetUserId (too_long before forbidden)", as: 'visitor',
    frame: (c) => msg(big(4001), `,"targetUserId":"${c.B.userId}"`), code: 'too_long' },
];

// Odd but valid frames: accepted, and what they store lands only in the sender's own conversation.
// Sent by a throwaway visitor T of desk 1 before the strict comparison starts. `stores`: the text
// that must be stored (and acked); `answer: 'history'`: answered with T's own history, nothing stored.
export const ACCEPTED = [
  { name: 'targetUserId null is no target', frame: msg('t: null target', ',"targetUserId":null,"clientMsgId":"t-1"'), stores: 't: null target' },
  { name: "B's id inside __proto__ is an ignored field",
    frame: (c) => msg('t: proto', `,"__proto__":{"targetUserId":"${c.B.userId}"},"clientMsgId":"t-2"`), stores: 't: proto' },
  { name: "B's userId on a message is an ignored field",
    frame: (c) => msg('t: userId', `,"userId":"${c.B.userId}","clientMsgId":"t-3"`), stores: 't: userId' },
  { name: "B's clientMsgId is a new message, not B's", frame: (c) => msg('t: b cid', `,"clientMsgId":"${c.cid.b}"`), stores: 't: b cid' },
  { name: "the admin's reply clientMsgId is a new message",
    frame: (c) => msg('t: reply cid', `,"clientMsgId":"${c.cid.reply}"`), stores: 't: reply cid' },
  { name: 'doubled type key, the last one message',
    frame: '{"type":"ping","message":"t: dup type","type":"message","clientMsgId":"t-4"}', stores: 't: dup type' },
  // A raw lone surrogate never reaches the desk: the client's UTF-8 encoder sends U+FFFD.
  { name: 'a raw lone surrogate in the text frame', frame: msg('x', ',"clientMsgId":"t-9"').replace('x', 'a\ud800b'), stores: 'a\ufffdb' },
  // Invalid UTF-8 in a text frame is decoded with U+FFFD by the runtime (RFC 6455 says fail the
  // connection with 1007); the desk only ever sees valid text.
  { name: 'invalid UTF-8 bytes inside a text frame',
    frame: Buffer.concat([Buffer.from('{"type":"message","message":"u'), Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from('","clientMsgId":"t-7"}')]), stores: 'u\ufffd\ufffd\ufffd' },
  { name: '4000 characters written as \\u escapes (24 KB frame)',
    frame: `{"type":"message","message":"${'\\u0041'.repeat(4000)}","clientMsgId":"t-8"}`, stores: 'A'.repeat(4000) },
  { name: 'history limit 2^32-1 is clamped', frame: '{"type":"history","limit":4294967295}', answer: 'history' },
  { name: 'history userId null is its own', frame: '{"type":"history","userId":null}', answer: 'history' },
  { name: 'history with its own userId and a constructor key',
    frame: (c) => `{"type":"history","userId":"${c.T.userId}","constructor":{"prototype":{"userId":"${c.B.userId}"}}}`, answer: 'history' },
];
