import assert from "node:assert/strict";
import { test } from "node:test";

import {
  bboxContains, gcj02ToWgs84, nearestPipe, needsNetwork, outOfChina, pipeColour, pipeWeight,
  projectorFor, requestBbox, unprojectorFor,
  wgs84ToGcj02,
} from "../../server/console/static/js/geo.js";

test("GCJ-02 shifts a point in Jinan by a few hundred metres, as published", () => {
  // Reference pair from the widely used eviltransform/coordtransform implementations.
  const [lon, lat] = wgs84ToGcj02(116.404, 39.915);
  assert.ok(Math.abs(lon - 116.41024449916938) < 1e-9, `lon ${lon}`);
  assert.ok(Math.abs(lat - 39.91640428150164) < 1e-9, `lat ${lat}`);
  const [jlon, jlat] = wgs84ToGcj02(117.0, 36.65);
  const dx = (jlon - 117.0) * 111320 * Math.cos((36.65 * Math.PI) / 180);
  const dy = (jlat - 36.65) * 110574;
  const metres = Math.hypot(dx, dy);
  assert.ok(metres > 100 && metres < 900, `shift ${metres} m`);
});

test("outside China the point is left as it is", () => {
  assert.equal(outOfChina(2.35, 48.85), true);
  assert.deepEqual(wgs84ToGcj02(2.35, 48.85), [2.35, 48.85]);
});

test("a WGS84 basemap keeps coordinates; a GCJ-02 one converts them", () => {
  assert.deepEqual(projectorFor("wgs84")(117.0, 36.65), [117.0, 36.65]);
  assert.notDeepEqual(projectorFor("gcj02")(117.0, 36.65), [117.0, 36.65]);
});

test("bigger pipes are darker and wider", () => {
  assert.equal(pipeColour(600), "#08306b");
  assert.equal(pipeColour(300), "#4292c6");
  assert.notEqual(pipeColour(200), pipeColour(100));
  assert.ok(pipeWeight(600) > pipeWeight(200));
  assert.ok(pipeWeight(50) >= 2 && pipeWeight(5000) <= 8);
});

test("the nearest pipe of a click is the one whose segment is closest", () => {
  const line = (id, coords) => ({ properties: { id }, geometry: { coordinates: coords } });
  const pipes = [
    line("north", [[117.0, 36.66], [117.01, 36.66]]),
    line("south", [[117.0, 36.64], [117.01, 36.64]]),
    line("bent", [[117.02, 36.64], [117.02, 36.65], [117.03, 36.65]]),
  ];
  assert.equal(nearestPipe(pipes, [117.005, 36.658]).properties.id, "north");
  assert.equal(nearestPipe(pipes, [117.005, 36.641]).properties.id, "south");
  assert.equal(nearestPipe(pipes, [117.025, 36.6505]).properties.id, "bent");
  assert.equal(nearestPipe([], [117, 36]), null);
});

test("GCJ-02 back to WGS84 lands within a millimetre of where it started", () => {
  for (const [lon, lat] of [[117.0, 36.65], [116.404, 39.915], [121.47, 31.23], [113.26, 23.13]]) {
    const [gx, gy] = wgs84ToGcj02(lon, lat);
    const [x, y] = gcj02ToWgs84(gx, gy);
    assert.ok(Math.abs(x - lon) < 1e-8 && Math.abs(y - lat) < 1e-8, `${lon},${lat} -> ${x},${y}`);
  }
  const [x, y] = unprojectorFor("gcj02")(...projectorFor("gcj02")(117.0, 36.65));
  assert.ok(Math.abs(x - 117.0) < 1e-8 && Math.abs(y - 36.65) < 1e-8);
  assert.deepEqual(unprojectorFor("wgs84")(117.0, 36.65), [117.0, 36.65]);
});

test("the map asks only for its view, within the server's span", () => {
  assert.deepEqual(requestBbox([117.0, 36.6, 117.1, 36.7]), [117.0, 36.6, 117.1, 36.7]);
  // a continent-wide view is narrowed around its centre, never past valid coordinates
  assert.deepEqual(requestBbox([100, 20, 130, 50]), [112.5, 32.5, 117.5, 37.5]);
  assert.deepEqual(requestBbox([-200, -95, -178, -89], 5), [-180, -90, -178, -89]);
  assert.ok(bboxContains([0, 0, 10, 10], [1, 1, 9, 9]));
  assert.ok(!bboxContains([0, 0, 10, 10], [1, 1, 11, 9]));
});

test("the network is asked for again only when the view needs it", () => {
  const whole = { bbox: [117, 36.6, 117.1, 36.7], extent: [117, 36.6, 117.1, 36.7], truncated: false, zoom: 12 };
  assert.equal(needsNetwork(null, [117, 36.6, 117.1, 36.7], 12), true);
  assert.equal(needsNetwork(whole, [100, 30, 130, 40], 3), false); // all of it is here
  const part = { bbox: [117, 36.6, 117.1, 36.7], extent: [116, 36, 118, 37], truncated: false, zoom: 14 };
  assert.equal(needsNetwork(part, [117.01, 36.61, 117.05, 36.65], 15), false);
  assert.equal(needsNetwork(part, [116.9, 36.61, 117.05, 36.65], 14), true); // left the box
  const cut = { ...part, truncated: true };
  assert.equal(needsNetwork(cut, [117.01, 36.61, 117.05, 36.65], 14), false);
  assert.equal(needsNetwork(cut, [117.01, 36.61, 117.05, 36.65], 15), true); // zoomed in
});
