// The camera and the QR decoder: getUserMedia for the picture, the browser's BarcodeDetector where it has one for
// QR codes, otherwise jsQR (vendor/jsqr, loaded on first use). Frames are read a few times a second, not every frame,
// to spare a phone's battery.

/** Why the camera could not start; the app has a message and a way on for each. */
export class CameraError extends Error {
  constructor(kind, cause) {
    super(kind);
    this.kind = kind; // "refused" or "none"
    this.cause = cause;
  }
}

const FRAME_INTERVAL_MS = 150;
const MAX_SIDE = 640;

let jsQrLoading = null;

function loadJsQr() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  jsQrLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = new URL("vendor/jsqr/jsQR.js", import.meta.url).href;
    script.onload = () => resolve(window.jsQR);
    script.onerror = () => reject(new Error("jsQR did not load"));
    document.head.append(script);
  });
  return jsQrLoading;
}

async function makeDecoder() {
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) {
        const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        return { kind: "BarcodeDetector", decode: async (canvas) => (await detector.detect(canvas))[0]?.rawValue ?? null };
      }
    } catch {
      // A detector that cannot list its formats is no use; jsQR below is.
    }
  }
  const jsQR = await loadJsQr();
  return {
    kind: "jsQR",
    decode: async (canvas, context) => {
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      return jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" })?.data ?? null;
    },
  };
}

/**
 * Starts the camera in <video> and calls onCode(text) with the first QR code it reads, then stops. Returns a stop
 * function. Rejects with a CameraError when the camera is refused or missing.
 */
export async function startScanning(video, onCode) {
  if (!navigator.mediaDevices?.getUserMedia) throw new CameraError("none");
  // A camera the user has blocked for this site is "refused" even where the browser would first report that it
  // found no device, so the message points at the setting that helps.
  const permission = await navigator.permissions?.query({ name: "camera" }).catch(() => null);
  if (permission?.state === "denied") throw new CameraError("refused");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
  } catch (failure) {
    const refused = failure?.name === "NotAllowedError" || failure?.name === "SecurityError";
    throw new CameraError(refused ? "refused" : "none", failure);
  }

  let stopped = false;
  let timer = null;
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };

  video.srcObject = stream;
  video.setAttribute("playsinline", "");
  video.muted = true;
  await video.play().catch(() => {});
  const decoder = await makeDecoder();
  video.dataset.decoder = decoder.kind;
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });

  const tick = async () => {
    if (stopped) return;
    if (video.readyState >= 2 && video.videoWidth > 0) {
      const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const text = await decoder.decode(canvas, context).catch(() => null);
      if (text && !stopped) {
        stop();
        onCode(text);
        return;
      }
    }
    timer = setTimeout(tick, FRAME_INTERVAL_MS);
  };
  tick();
  return stop;
}
