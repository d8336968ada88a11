/*
 * MD5 (RFC 1321) of a string's UTF-8 bytes, as lower-case hex: the console token Abiquo's token job writes for a VM
 * is md5("vdrpIP:vdrpPort"), and this page must compute the same one. MD5 is used here as a name, not for security.
 * Classic script (no modules) so it runs from any web server Abiquo's UI sits on; sets globalThis.abiquoConsoleMd5.
 */
(function (root) {
  'use strict';

  var SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
  var CONSTANTS = [];
  for (var k = 0; k < 64; k++) {
    // RFC 1321 section 3.4: T[i] = floor(2^32 * abs(sin(i + 1))).
    CONSTANTS[k] = Math.floor(Math.abs(Math.sin(k + 1)) * 4294967296) | 0;
  }

  function utf8(text) {
    if (typeof TextEncoder !== 'undefined') {
      return new TextEncoder().encode(text);
    }
    var binary = unescape(encodeURIComponent(text));
    var bytes = [];
    for (var i = 0; i < binary.length; i++) {
      bytes.push(binary.charCodeAt(i));
    }
    return bytes;
  }

  function md5(text) {
    var bytes = utf8(String(text));
    var length = bytes.length;
    // Message + 0x80 + zero padding + 64-bit length, in 16-word (64-byte) blocks of little-endian words.
    var wordCount = (((length + 8) >>> 6) + 1) * 16;
    var words = [];
    for (var w = 0; w < wordCount; w++) {
      words[w] = 0;
    }
    for (var i = 0; i < length; i++) {
      words[i >> 2] |= bytes[i] << ((i % 4) * 8);
    }
    words[length >> 2] |= 0x80 << ((length % 4) * 8);
    words[wordCount - 2] = (length * 8) | 0;
    words[wordCount - 1] = Math.floor(length / 0x20000000) | 0;

    var a0 = 0x67452301;
    var b0 = 0xefcdab89 | 0;
    var c0 = 0x98badcfe | 0;
    var d0 = 0x10325476;
    for (var block = 0; block < wordCount; block += 16) {
      var a = a0;
      var b = b0;
      var c = c0;
      var d = d0;
      for (var step = 0; step < 64; step++) {
        var f;
        var g;
        if (step < 16) {
          f = (b & c) | (~b & d);
          g = step;
        } else if (step < 32) {
          f = (d & b) | (~d & c);
          g = (5 * step + 1) % 16;
        } else if (step < 48) {
          f = b ^ c ^ d;
          g = (3 * step + 5) % 16;
        } else {
          f = c ^ (b | ~d);
          g = (7 * step) % 16;
        }
        var sum = (a + f + CONSTANTS[step] + words[block + g]) | 0;
        var shift = SHIFTS[(step >> 4) * 4 + (step % 4)];
        a = d;
        d = c;
        c = b;
        b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
      }
      a0 = (a0 + a) | 0;
      b0 = (b0 + b) | 0;
      c0 = (c0 + c) | 0;
      d0 = (d0 + d) | 0;
    }
    return hex(a0) + hex(b0) + hex(c0) + hex(d0);
  }

  function hex(word) {
    var text = '';
    for (var i = 0; i < 4; i++) {
      var octet = (word >>> (i * 8)) & 0xff;
      text += (octet < 16 ? '0' : '') + octet.toString(16);
    }
    return text;
  }

  root.abiquoConsoleMd5 = md5;
}(typeof globalThis !== 'undefined' ? globalThis : window));
