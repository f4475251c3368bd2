// Every word the phone app shows, in one object, so that a translation is one more object of the same shape.
// Placeholders are {name}; format() fills them.
export const strings = {
  appName: "AuthServer",
  tagline: "Approve sign-ins on your other devices by scanning the QR code they show.",
  signIn: "Sign in",
  signingIn: "Signing you in…",
  signedInAs: "Signed in as {name}",
  signOut: "Sign out",
  scan: "Scan",
  scanHint: "Point your camera at the QR code on the other screen.",
  typeCode: "Type the code",
  typeCodeInstead: "Type the code instead",
  typeCodeLabel: "The code shown on the other screen",
  continue: "Continue",
  cancel: "Cancel",
  back: "Back",
  done: "Done",
  tryAgain: "Try again",
  startingCamera: "Starting the camera…",
  checkingCode: "Checking the code…",
  sending: "Sending your answer…",
  loadingDevices: "Getting your devices…",
  question: "Sign in on {what}?",
  questionFallback: "Sign in on another device?",
  wants: "{app} wants to sign in to your account.",
  device: "Device",
  deviceReported: "(as reported by the device)",
  unnamed: "unnamed",
  ip: "IP address",
  asked: "Asked",
  code: "Code",
  unknown: "unknown",
  compareCode: "Check that this code matches the one on the other screen. If you did not start this, deny it.",
  details: "Details",
  userAgent: "Browser or app (as it describes itself)",
  willBeAble: "It will be able to:",
  pickNumber: "Which number does the other screen show? Pick it to approve. If you cannot see that screen, deny.",
  approve: "Approve",
  deny: "Deny",
  approved: "{what} is signed in. You can go back to it.",
  denied: "{what} will not be signed in.",
  linkedDevices: "Linked devices",
  noDevices: "No devices are signed in.",
  thisPhone: "This phone",
  lastUsed: "Last used {time}",
  signedInAt: "Signed in {time}",
  logOut: "Log out",
  offlineBanner: "You are offline.",
  errors: {
    cameraRefused: {
      title: "Camera access is off",
      text: "AuthServer needs the camera to scan. Allow the camera for this site in your browser's settings, then try again, or type the code instead.",
    },
    noCamera: {
      title: "No camera found",
      text: "This device has no camera that AuthServer can use. Type the code shown on the other screen instead.",
    },
    offline: {
      title: "You are offline",
      text: "Connect to the internet, then try again.",
    },
    expired: {
      title: "Code expired",
      text: "This code has expired or was replaced by a new one. Scan the code the other screen shows now.",
    },
    used: {
      title: "Code already used",
      text: "This code has already been approved or denied. If you want to sign in, ask the other screen for a new code.",
    },
    unknownCode: {
      title: "Not a sign-in code",
      text: "No sign-in is waiting for this code. Check the code on the other screen and try again.",
    },
    claimed: {
      title: "Code already in use",
      text: "Another account has already opened this code. Ask the other screen for a new code.",
    },
    wrongNumber: {
      title: "Request denied",
      text: "That was not the number on the other screen, so the request was denied. If you started it, ask that screen for a new code.",
    },
    ticket: {
      title: "Took too long",
      text: "This confirmation is no longer valid. Scan the code again.",
    },
    tooMany: {
      title: "Too many attempts",
      text: "Too many codes were tried. Wait a minute, then try again.",
    },
    signInFailed: {
      title: "Sign-in did not finish",
      text: "The sign-in was cancelled or could not be completed. Try again.",
    },
    signedOut: {
      title: "Signed out",
      text: "This phone is no longer signed in. Sign in again to keep approving sign-ins.",
    },
    unexpected: {
      title: "Something went wrong",
      text: "The server could not complete this. Try again in a moment.",
    },
  },
};

/** The string with its {placeholders} replaced by the given values. */
export function format(template, values = {}) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}
