// The playback page's pure logic: its ticket, its socket URL, times and the seek bar's markers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describePlaybackClose, formatTime, markerLayout, MIN_MARKER_PERCENT, playbackSocketUrl, positionNow, readTicket, SPEEDS,
} from '../../src/OrleansVncCluster.Relay/wwwroot/console/playback-core.js';

test('times read as m:ss below an hour and h:mm:ss from an hour on', () => {
  assert.equal(formatTime(0), '0:00');
  assert.equal(formatTime(9_999), '0:09');
  assert.equal(formatTime((13 * 60 + 37) * 1000), '13:37');
  assert.equal(formatTime(3_600_000), '1:00:00');
  assert.equal(formatTime(3_600_000 + 65_000), '1:01:05');
  assert.equal(formatTime(-5), '0:00');
  assert.equal(formatTime(Number.NaN), '0:00');
});

test('the ticket is read from the fragment first, then the query', () => {
  assert.equal(readTicket('?ticket=q', '#ticket=f'), 'f');
  assert.equal(readTicket('?ticket=q', ''), 'q');
  assert.equal(readTicket('', ''), null);
  assert.equal(readTicket('?ticket=%20', ''), null);
});

test('the socket URL names the moment, the speed and the pause on the page origin', () => {
  const url = playbackSocketUrl({ protocol: 'https:', host: 'relay.example:8443' }, 'vp1.abc+/', { atMs: 1234.7, speed: 4, paused: true });
  assert.equal(url, 'wss://relay.example:8443/websockify/playback?ticket=vp1.abc%2B%2F&at=1234&speed=4&paused=1');
  assert.match(playbackSocketUrl({ protocol: 'http:', host: 'h' }, 't', { atMs: -3, speed: 1, paused: false }), /^ws:\/\/h\/.*at=0&speed=1&paused=0$/);
});

test('the speeds are the ones the relay plays', () => {
  assert.deepEqual([...SPEEDS], [1, 2, 4, 8, 16]);
});

test('markers put the start and end at the bar ends and each input bucket where it happened', () => {
  const markers = markerLayout({ durationMs: 3_600_000, startMs: 0, endMs: 3_600_000, bucketMs: 8000, inputs: [{ atMs: 1_800_000, count: 3 }] });
  assert.deepEqual(markers.map((m) => m.kind), ['start', 'input', 'end']);
  assert.equal(markers[0].left, 0);
  assert.equal(markers[1].left, 50);
  assert.equal(markers[1].count, 3);
  assert.equal(markers[2].left, 100);
});

test('an input marker is never narrower than a visible sliver nor wider than what is left of the bar', () => {
  const [, tiny, last] = markerLayout({ durationMs: 3_600_000, bucketMs: 1000, inputs: [{ atMs: 0, count: 1 }, { atMs: 3_599_999, count: 1 }] });
  assert.equal(tiny.width, MIN_MARKER_PERCENT);
  assert.ok(last.left + last.width <= 100);
});

test('markers of an empty recording stay on the bar', () => {
  const markers = markerLayout({ durationMs: 0, inputs: [] });
  assert.ok(markers.every((m) => m.left >= 0 && m.left <= 100));
});

test('the position moves with time at the speed, stops at the end, and stays put when paused', () => {
  assert.equal(positionNow({ atMs: 1000, speed: 4, paused: false, startedAt: 100 }, 600, 10_000), 3000);
  assert.equal(positionNow({ atMs: 9000, speed: 16, paused: false, startedAt: 0 }, 10_000, 10_000), 10_000);
  assert.equal(positionNow({ atMs: 1000, speed: 4, paused: true, startedAt: 0 }, 10_000, 10_000), 1000);
  assert.equal(positionNow({ atMs: 1000, speed: 4, paused: false, startedAt: null }, 10_000, 10_000), 1000);
});

test('the player closes read as sentences: the end, refusals and a lost connection', () => {
  assert.deepEqual(describePlaybackClose({ code: 1000, reason: 'end of recording' }), { key: 'playback.ended', kind: 'ended' });
  assert.equal(describePlaybackClose({ code: 4419, reason: '' }).key, 'playback.expired');
  assert.equal(describePlaybackClose({ code: 4401, reason: '' }).key, 'playback.badTicket');
  assert.equal(describePlaybackClose({ code: 4404, reason: '' }).key, 'playback.notFound');
  assert.equal(describePlaybackClose({ code: 1006, reason: '' }).kind, 'failed');
});
