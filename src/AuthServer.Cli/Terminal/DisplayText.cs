using System.Globalization;
using System.Text;

namespace AuthServer.Cli.Terminal;

/// <summary>
/// Text another party chose (a waiting screen's name, its user agent, a client's name) as the terminal shows it. A
/// control character could move the cursor or rewrite the line, and a format character (a bidirectional override)
/// could make the name read as something else, which is what the user checks before approving (RFC 8628 §5.4). Each
/// such character is shown as its code point instead.
/// </summary>
public static class DisplayText
{
    public static string Safe(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        var shown = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            shown.Append(IsPlain(rune) ? rune.ToString() : $"<U+{rune.Value:X4}>");
        }
        return shown.ToString();
    }

    /// <summary>Whether <paramref name="rune"/> shows as itself: not a control, format, separator, private-use or unassigned character.</summary>
    public static bool IsPlain(Rune rune) => Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse
        or UnicodeCategory.OtherNotAssigned or UnicodeCategory.Surrogate);
}
