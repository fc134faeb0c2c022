// The station map (Leaflet, vendored under static/vendor/leaflet): stations coloured by state, a click opens the
// station; communes tinted by their most urgent station's state. With a tile URL configured the tiles are drawn
// under them; without one (no internet) the communes' outlines (imported, or estimated from their centres) and the
// area's outline are drawn instead. The page's table works without it.
(function () {
  "use strict";
  var holder = document.getElementById("station-map");
  if (!holder || !window.L) return;
  var labels = JSON.parse(holder.dataset.labels || "{}");
  var COLOURS = {online: "#1e7b34", playing: "#1565c0", offline: "#b3261e", unknown: "#6b6b6b", behind: "#b26a00"};

  function stationUrl(code) {
    return holder.dataset.stationUrl.replace("__code__", encodeURIComponent(code));
  }

  function draw(data) {
    var count = data.features.filter(function (f) { return f.properties.kind === "station"; }).length;
    // A province has thousands of stations: past a few thousand they are painted on one canvas, not as as many
    // SVG elements (clicks work the same; SVG keeps each marker an element that can be named and tested).
    var map = L.map(holder, {zoomSnap: 0.25, attributionControl: !!data.tile_url,
                             renderer: count > 3000 ? L.canvas() : L.svg()});
    holder.classList.add("ready");
    if (data.tile_url) {
      L.tileLayer(data.tile_url, {maxZoom: 18, attribution: data.tile_attribution || ""}).addTo(map);
    }
    var bounds = L.latLngBounds([]);
    var stationsLayer = L.layerGroup();
    // Stations added without coordinates of their own stand at their commune's centre, one on another: those
    // sharing a point are spread on a small circle around it (some 150 m) so that each can be seen and clicked.
    var sharing = {};
    data.features.forEach(function (f) {
      if (f.properties.kind !== "station") return;
      var key = f.geometry.coordinates.join(",");
      (sharing[key] = sharing[key] || []).push(f.properties.code);
    });
    function spread(p, coordinates) {
      var group = sharing[coordinates.join(",")] || [];
      if (group.length < 2) return [coordinates[1], coordinates[0]];
      var angle = 2 * Math.PI * group.indexOf(p.code) / group.length, r = 0.0015;
      return [coordinates[1] + r * Math.sin(angle), coordinates[0] + r * Math.cos(angle)];
    }
    // Communes first, the area's outline over them, the stations on top. Estimated commune outlines (drawn from
    // the centres when no boundary was imported) are dashed, and left out over tiles, which show real ones.
    function byKind(kind) {
      return data.features.filter(function (f) { return f.properties.kind === kind; });
    }
    byKind("commune").forEach(function (feature) {
      var p = feature.properties, g = feature.geometry;
      if (p.outline === "centre") {
        if (data.tile_url) return;
        L.circleMarker([g.coordinates[1], g.coordinates[0]], {radius: 2, color: "#999", weight: 1,
                       interactive: false, className: "map-commune outline-centre"}).addTo(map);
        bounds.extend([g.coordinates[1], g.coordinates[0]]);
        return;
      }
      if (data.tile_url && p.outline !== "imported") return;
      var tint = p.state ? COLOURS[p.state] : null;
      var layer = L.geoJSON(feature, {style: {
        color: "#8a8f98", weight: 1, dashArray: p.outline === "estimated" ? "4 3" : null,
        fillColor: tint || "#eef3ea", fillOpacity: tint ? 0.22 : (data.tile_url ? 0 : 0.55),
        className: "map-commune outline-" + p.outline + (p.state ? " state-" + p.state : "")}});
      var count = p.stations ? " · " + (labels.stations || "{n}").replace("{n}", p.stations) : "";
      layer.bindTooltip(p.name + count + (p.state ? " · " + (labels[p.state] || p.state) : ""), {sticky: true});
      layer.eachLayer(function (shape) {
        shape.on("add", function () {
          var el = shape.getElement && shape.getElement();
          if (el) el.setAttribute("data-code", p.code);
        });
      });
      layer.addTo(map);
      bounds.extend(layer.getBounds());
    });
    byKind("outline").forEach(function (feature) {
      if (data.tile_url && feature.properties.outline !== "imported") return;
      var layer = L.geoJSON(feature, {interactive: false, style: {
        color: "#444", weight: 2.5, fill: false, className: "map-outline outline-" + feature.properties.outline}});
      layer.addTo(map);
      bounds.extend(layer.getBounds());
    });
    byKind("station").forEach(function (feature) {
      var p = feature.properties, g = feature.geometry;
      var at = spread(p, g.coordinates);
      var marker = L.circleMarker(at, {radius: 8, color: "#fff", weight: 2, fillColor: COLOURS[p.state] || "#333",
                                       fillOpacity: 1, className: "map-station state-" + p.state});
      marker.bindTooltip(p.code + " · " + p.name + " · " + (labels[p.state] || p.state));
      marker.on("click", function () { window.location.assign(stationUrl(p.code)); });
      marker.on("add", function () {
        var el = marker.getElement();
        if (!el) return;
        el.setAttribute("data-code", p.code);
        el.setAttribute("data-state", p.state);
        el.setAttribute("role", "link");
        el.setAttribute("aria-label", p.code + ": " + (labels[p.state] || p.state) + ". " + (labels.open || ""));
      });
      stationsLayer.addLayer(marker);
      bounds.extend(at);
    });
    stationsLayer.addTo(map);
    if (bounds.isValid()) {
      map.fitBounds(bounds, {padding: [16, 16], maxZoom: 15});
    } else {
      map.setView([16.0, 106.0], 5);  // Vietnam, when nothing in scope has coordinates
    }
    holder.dataset.stations = String(stationsLayer.getLayers().length);
  }

  fetch(holder.dataset.src, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (answer) { return answer.json(); })
    .then(draw);
})();
