using System.Diagnostics.CodeAnalysis;

namespace AuthServer.DeviceFlow;

/// <summary>
/// User codes per RFC 8628 §6.1: 8 characters of a base-20 alphabet without vowels (so no words can be spelled) and
/// without look-alike characters: 20^8 ≈ 2^34.5 possibilities, enough entropy when guesses are limited (§5.1).
/// OpenIddict draws them (OpenIddictSetup sets its charset, length and display format); this reads and shows them.
/// </summary>
public static class UserCode
{
    public const string Alphabet = "BCDFGHJKLMNPQRSTVWXZ";
    public const int Length = 8;

    /// <summary>The display form <c>XXXX-XXXX</c>; the dash helps people keep their place (§6.1).</summary>
    public static string Format(string normalized) => $"{normalized[..4]}-{normalized[4..]}";

    /// <summary>
    /// Reads what a user typed: case, dashes and white space do not matter (§6.1). Anything else that is not in the
    /// alphabet makes the input invalid rather than being silently dropped.
    /// </summary>
    public static bool TryNormalize(string? input, [NotNullWhen(true)] out string? normalized)
    {
        normalized = null;
        if (string.IsNullOrEmpty(input) || input.Length > 32) return false;

        Span<char> buffer = stackalloc char[Length];
        var count = 0;
        foreach (var raw in input)
        {
            if (raw is '-' || char.IsWhiteSpace(raw)) continue;
            var c = char.ToUpperInvariant(raw);
            if (!Alphabet.Contains(c) || count == Length) return false;
            buffer[count++] = c;
        }
        if (count != Length) return false;
        normalized = new string(buffer);
        return true;
    }
}
