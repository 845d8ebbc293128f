/* The live "payment received" screen: /api/stream/{stall} events shown big and spoken in Vietnamese.
 *
 * Reliability first (a faked transfer screenshot must fool nobody):
 * - every payment is shown once: receipt ids already on the page or already received are skipped;
 * - the browser's own EventSource reconnect sends Last-Event-ID; if it gives up (CLOSED) or the
 *   connection goes silent (no "ping" for 40 s, a half-open 3G socket), we reconnect ourselves
 *   with ?since=<last id>, so nothing between two connections is lost;
 * - the connection state is always on screen.
 * Browsers refuse to speak before a user gesture, hence the "Bật âm thanh" button; it also asks
 * for a screen wake lock where the Wake Lock API exists.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("live-config").textContent);
  var S = config.strings;
  var stateEl = document.getElementById("state");
  var soundButton = document.getElementById("sound");
  var latestEl = document.getElementById("latest");
  var listEl = document.getElementById("payments");
  var countEl = document.getElementById("count");
  var totalEl = document.getElementById("total");

  var SILENCE_MS = 40000;
  var RETRY_MS = 3000;
  var seen = {};
  var lastId = Number(config.since) || 0;
  var total = Number(listEl.getAttribute("data-total")) || 0;
  var count = Number(listEl.getAttribute("data-count")) || 0;
  var source = null;
  var lastHeard = Date.now();
  var retryTimer = null;
  var soundOn = false;
  var wakeLock = null;

  Array.prototype.forEach.call(listEl.querySelectorAll("li[data-id]"), function (li) {
    seen[li.getAttribute("data-id")] = true;
  });

  // --- formatting (1.234.567 ₫, 24-hour clock, Asia/Ho_Chi_Minh) -------------
  function groupDigits(n) {
    return String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }
  function money(n) {
    return (n < 0 ? "-" : "") + groupDigits(n) + "\u00a0₫";
  }
  var clock = new Intl.DateTimeFormat("vi-VN", {
    hour: "2-digit", minute: "2-digit", hour12: false, timeZone: config.timezone
  });

  // --- the amount in Vietnamese words: what any vi-VN voice reads right -----------------------
  var DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"];
  var SCALES = ["", "nghìn", "triệu", "tỷ", "nghìn tỷ", "triệu tỷ"];

  function readTriple(n, full) {
    // full: a group after a bigger one reads its hundreds even when zero ("không trăm lẻ năm").
    var h = Math.floor(n / 100), t = Math.floor(n / 10) % 10, u = n % 10, out = [];
    if (h || full) out.push(DIGITS[h], "trăm");
    if (t === 0) {
      if (u) {
        if (h || full) out.push("lẻ");
        out.push(DIGITS[u]);
      }
    } else if (t === 1) {
      out.push("mười");
      if (u === 5) out.push("lăm"); else if (u) out.push(DIGITS[u]);
    } else {
      out.push(DIGITS[t], "mươi");
      if (u === 1) out.push("mốt");
      else if (u === 4) out.push("tư");
      else if (u === 5) out.push("lăm");
      else if (u) out.push(DIGITS[u]);
    }
    return out.join(" ");
  }

  function readVietnamese(value) {
    var n = Math.abs(Math.round(value));
    if (n === 0) return DIGITS[0];
    var groups = [];
    while (n > 0) { groups.push(n % 1000); n = Math.floor(n / 1000); }
    var words = [];
    for (var i = groups.length - 1; i >= 0; i--) {
      if (!groups[i]) continue;
      words.push(readTriple(groups[i], i < groups.length - 1));
      if (SCALES[i]) words.push(SCALES[i]);
    }
    return words.join(" ");
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function sentence(payment) {
    var key = payment.amount < 0 ? "say.reversal" : "say";
    var amount = Math.abs(payment.amount);
    return fill(S[key], {
      words: readVietnamese(amount),
      amount: String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, ",")
    });
  }

  // --- sound -----------------------------------------------------------------------------------
  var audio = null;
  function chime() {
    // A short two-tone chime first: heard even where no Vietnamese voice is installed.
    if (!audio) return;
    try {
      var now = audio.currentTime;
      [880, 1320].forEach(function (freq, i) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, now + i * 0.18);
        gain.gain.exponentialRampToValueAtTime(0.3, now + i * 0.18 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.3);
        osc.connect(gain).connect(audio.destination);
        osc.start(now + i * 0.18);
        osc.stop(now + i * 0.18 + 0.32);
      });
    } catch (e) { /* audio is a nicety; speech and the screen still work */ }
  }

  function voiceFor(lang) {
    if (!window.speechSynthesis || !speechSynthesis.getVoices) return null;
    var prefix = lang.slice(0, 2).toLowerCase();
    var voices = speechSynthesis.getVoices() || [];
    for (var i = 0; i < voices.length; i++) {
      if (String(voices[i].lang).replace("_", "-").toLowerCase().indexOf(prefix) === 0) return voices[i];
    }
    return null;
  }

  function speak(text) {
    if (!window.speechSynthesis || typeof SpeechSynthesisUtterance === "undefined") return;
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = config.lang === "en" ? "en-US" : "vi-VN";
    utterance.rate = 0.95;
    var voice = voiceFor(utterance.lang);
    if (voice) utterance.voice = voice;
    // Utterances queue: two payments a second apart are both read out, in order.
    speechSynthesis.speak(utterance);
  }

  function requestWakeLock() {
    if (!("wakeLock" in navigator) || document.visibilityState !== "visible") return;
    navigator.wakeLock.request("screen").then(function (lock) { wakeLock = lock; }, function () {});
  }

  soundButton.addEventListener("click", function () {
    soundOn = true;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audio) { try { audio = new Ctx(); } catch (e) { audio = null; } }
    if (audio && audio.resume) audio.resume();
    speak(S["sound.on"]);
    requestWakeLock();
    soundButton.textContent = S["sound.on"];
    soundButton.classList.add("secondary");
    soundButton.setAttribute("aria-pressed", "true");
  });

  document.addEventListener("visibilitychange", function () {
    // The wake lock is released whenever the page is hidden; take it again on return.
    if (soundOn && document.visibilityState === "visible" && (!wakeLock || wakeLock.released)) requestWakeLock();
    if (document.visibilityState === "visible" && Date.now() - lastHeard > SILENCE_MS) reconnect();
  });

  // --- showing a payment -----------------------------------------------------------------------
  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function signed(amount) {
    return (amount > 0 ? "+" : "") + money(amount);
  }

  function show(payment) {
    var when = clock.format(new Date(payment.occurred_at));
    var payer = payment.payer || S["payer.unknown"];
    var negative = payment.amount < 0;

    latestEl.textContent = "";
    latestEl.classList.remove("empty", "flash");
    latestEl.appendChild(element("p", "amount" + (negative ? " negative" : ""), signed(payment.amount)));
    var meta = element("p", "meta");
    meta.appendChild(element("span", "when", when));
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(element("span", "payer", negative ? S.reversal : payer));
    latestEl.appendChild(meta);
    void latestEl.offsetWidth; // restart the flash animation
    latestEl.classList.add("flash");

    var li = element("li", negative ? "negative" : "");
    li.setAttribute("data-id", String(payment.receipt_id));
    li.appendChild(element("span", "amt", signed(payment.amount)));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(element("span", "when", when));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(element("span", "payer", payer));
    listEl.insertBefore(li, listEl.firstChild);

    total += payment.amount;
    if (payment.amount > 0) count += 1;
    totalEl.textContent = money(total);
    countEl.textContent = fill(S.count, { count: groupDigits(count) });
  }

  function onPayment(event) {
    lastHeard = Date.now();
    var payment;
    try { payment = JSON.parse(event.data); } catch (e) { return; }
    var id = String(payment.receipt_id);
    if (seen[id]) return;
    seen[id] = true;
    lastId = Math.max(lastId, payment.receipt_id);
    show(payment);
    if (soundOn) {
      chime();
      speak(sentence(payment));
    }
  }

  // --- the connection --------------------------------------------------------------------------
  function setState(name) {
    stateEl.className = "state " + name;
    stateEl.textContent = S["state." + name];
  }

  function connect() {
    clearTimeout(retryTimer);
    setState("connecting");
    lastHeard = Date.now();
    source = new EventSource(config.stream + "?since=" + encodeURIComponent(lastId));
    source.addEventListener("open", function () { lastHeard = Date.now(); setState("open"); });
    source.addEventListener("payment", onPayment);
    source.addEventListener("ping", function () { lastHeard = Date.now(); setState("open"); });
    source.addEventListener("error", function () {
      setState("lost");
      // CONNECTING: the browser retries by itself (with Last-Event-ID). CLOSED: it gave up.
      if (source.readyState === EventSource.CLOSED) retryTimer = setTimeout(reconnect, RETRY_MS);
    });
  }

  function reconnect() {
    if (source) source.close();
    connect();
  }

  setInterval(function () {
    if (Date.now() - lastHeard > SILENCE_MS) { setState("lost"); reconnect(); }
  }, 5000);
  window.addEventListener("online", reconnect);

  // For tests and the curious: the words a payment is read with.
  window.marketLive = { readVietnamese: readVietnamese, sentence: sentence };

  connect();
})();
