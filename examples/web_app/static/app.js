// The example page's behaviour: the JSON button and the WebSocket echo.
"use strict";

const $ = (id) => document.getElementById(id);

$("fetch-json").addEventListener("click", async () => {
  const reply = await fetch("/api/hello?name=" + encodeURIComponent($("name").value || "World"));
  $("json-result").textContent = JSON.stringify(await reply.json(), null, 2);
});

const scheme = location.protocol === "https:" ? "wss://" : "ws://";
const socket = new WebSocket(scheme + location.host + "/ws");
socket.addEventListener("open", () => { $("ws-status").textContent = "open"; });
socket.addEventListener("close", () => { $("ws-status").textContent = "closed"; });
socket.addEventListener("message", (event) => {
  const item = document.createElement("li");
  item.textContent = event.data;  // text, never HTML
  $("ws-log").appendChild(item);
});

$("ws-send").addEventListener("click", () => {
  socket.send($("ws-message").value);
  $("ws-message").value = "";
});
