namespace AuthServer.Localization;

/// <summary>
/// The one resource every page, partial and error message is translated from: its keys are the English text itself,
/// so English needs no resource file and a missing translation falls back to English rather than to a key.
/// The Simplified Chinese text lives in <c>SharedResource.zh-CN.resx</c> beside this class.
/// </summary>
public sealed class SharedResource;
