// The chat page: who is here (GET api/here), and the chat over a WebSocket on ws.
"use strict";

const lines = document.getElementById("lines");
const status = document.getElementById("status");
const form = document.getElementById("say");
const input = document.getElementById("text");

function show(text) {
  const item = document.createElement("li");
  item.textContent = text; // text, never HTML: people type what they like
  lines.append(item);
  item.scrollIntoView();
}

async function showWhoIsHere() {
  const response = await fetch("api/here");
  const { here } = await response.json();
  document.getElementById("here").textContent = here.join(", ") || "nobody";
}

const url = new URL("ws", location.href);
url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
const socket = new WebSocket(url);

socket.addEventListener("open", () => {
  status.textContent = "connected";
});
socket.addEventListener("message", (event) => {
  show(event.data);
  if (event.data.startsWith("* ")) {
    showWhoIsHere(); // someone entered, left or changed names
  }
});
socket.addEventListener("close", () => {
  status.textContent = "disconnected";
  input.disabled = true;
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (input.value && socket.readyState === WebSocket.OPEN) {
    socket.send(input.value);
    input.value = "";
  }
});

showWhoIsHere();
