// Every word the phone app shows, one object per language of the same shape. Placeholders are {name}; format()
// fills them. The language is the one the server's pages use (Localization/Languages.cs): the culture cookie the
// header's switch sets, else the browser's preferred languages, else English.
const en = {
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

const zhCN = {
  appName: "AuthServer",
  tagline: "扫描其他设备上显示的二维码，在手机上确认它们的登录。",
  signIn: "登录",
  signingIn: "正在登录…",
  signedInAs: "已登录：{name}",
  signOut: "退出登录",
  scan: "扫码登录",
  scanHint: "将摄像头对准另一块屏幕上的二维码。",
  typeCode: "输入代码",
  typeCodeInstead: "改为输入代码",
  typeCodeLabel: "另一块屏幕上显示的代码",
  continue: "继续",
  cancel: "取消",
  back: "返回",
  done: "完成",
  tryAgain: "重试",
  startingCamera: "正在打开摄像头…",
  checkingCode: "正在核对代码…",
  sending: "正在发送你的选择…",
  loadingDevices: "正在获取你的设备…",
  question: "要登录 {what} 吗？",
  questionFallback: "要登录另一台设备吗？",
  wants: "{app} 请求登录你的账号。",
  device: "设备",
  deviceReported: "（由该设备自报）",
  unnamed: "未命名",
  ip: "IP 地址",
  asked: "请求时间",
  code: "代码",
  unknown: "未知",
  compareCode: "请核对此代码与另一块屏幕上的代码是否一致。如果这不是你发起的，请拒绝。",
  details: "详细信息",
  userAgent: "浏览器或应用（其自我描述）",
  willBeAble: "它将能够：",
  pickNumber: "另一块屏幕上显示的是哪个数字？选中它即可确认。如果你看不到那块屏幕，请拒绝。",
  approve: "确认登录",
  deny: "拒绝",
  approved: "{what} 已登录，你可以回到那台设备上继续。",
  denied: "{what} 不会被登录。",
  linkedDevices: "已关联的设备",
  noDevices: "没有已登录的设备。",
  thisPhone: "本机",
  lastUsed: "上次使用：{time}",
  signedInAt: "登录时间：{time}",
  logOut: "退出登录",
  offlineBanner: "你已离线。",
  errors: {
    cameraRefused: {
      title: "摄像头权限已关闭",
      text: "AuthServer 需要使用摄像头扫码。请在浏览器设置中允许本网站使用摄像头后重试，或改为输入代码。",
    },
    noCamera: {
      title: "未找到摄像头",
      text: "此设备没有 AuthServer 可以使用的摄像头。请改为输入另一块屏幕上显示的代码。",
    },
    offline: {
      title: "你已离线",
      text: "请连接网络后重试。",
    },
    expired: {
      title: "代码已过期",
      text: "此代码已过期或已被新代码取代。请扫描另一块屏幕上当前显示的二维码。",
    },
    used: {
      title: "代码已被使用",
      text: "此代码已被确认或拒绝。如需登录，请在另一块屏幕上获取新代码。",
    },
    unknownCode: {
      title: "这不是登录代码",
      text: "没有等待此代码的登录请求。请核对另一块屏幕上的代码后重试。",
    },
    claimed: {
      title: "代码已被占用",
      text: "另一个账号已经打开了此代码。请在另一块屏幕上获取新代码。",
    },
    wrongNumber: {
      title: "请求已拒绝",
      text: "所选数字与另一块屏幕上的不一致，因此请求已被拒绝。如果这是你发起的，请在那块屏幕上获取新代码。",
    },
    ticket: {
      title: "等待时间过长",
      text: "此次确认已失效。请重新扫码。",
    },
    tooMany: {
      title: "尝试次数过多",
      text: "尝试的代码过多。请等待一分钟后重试。",
    },
    signInFailed: {
      title: "登录未完成",
      text: "登录已取消或未能完成。请重试。",
    },
    signedOut: {
      title: "已退出登录",
      text: "此手机已不再登录。请重新登录，以便继续确认登录请求。",
    },
    unexpected: {
      title: "出错了",
      text: "服务器未能完成此操作。请稍后重试。",
    },
  },
};

/** The culture cookie's name and the languages the server translates into (Localization/Languages.cs). */
const CULTURE_COOKIE = ".AspNetCore.Culture";
const TRADITIONAL = /^zh-(tw|hk|mo|hant)/i;

/** "en" or "zh-CN" for one language tag, or null when it is neither. */
function match(tag) {
  if (/^en(-|$)/i.test(tag)) return "en";
  if (/^zh(-|$)/i.test(tag) && !TRADITIONAL.test(tag)) return "zh-CN";
  return null;
}

/** The header switch's choice (the cookie's "uic=" culture), else the browser's first supported language. */
export function chooseLanguage(cookie = document.cookie, preferred = navigator.languages || [navigator.language]) {
  for (const part of cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name !== CULTURE_COOKIE) continue;
    const chosen = /(?:^|\|)uic=([^|]+)/.exec(decodeURIComponent(rest.join("=")));
    if (chosen && match(chosen[1])) return match(chosen[1]);
  }
  for (const tag of preferred) {
    const language = tag && match(tag);
    if (language) return language;
  }
  return "en";
}

export const language = chooseLanguage();
export const strings = language === "zh-CN" ? zhCN : en;

/** The string with its {placeholders} replaced by the given values. */
export function format(template, values = {}) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}
