using System.Security.Cryptography;

namespace AuthServer.DeviceFlow;

/// <summary>
/// Number matching (RFC 8628 §5.4, remote phishing): a phished user holds the attacker's QR code but cannot see the
/// attacker's screen, so cannot pick the number it shows. One guess in three still passes; a wrong pick denies.
/// </summary>
public static class NumberMatching
{
    public static int NewNumber() => RandomNumberGenerator.GetInt32(10, 100);

    /// <summary>Three different 2-digit numbers, the right one among them, in random order.</summary>
    public static int[] Choices(int correct)
    {
        var choices = new HashSet<int> { correct };
        while (choices.Count < 3) choices.Add(NewNumber());
        return [.. choices.OrderBy(_ => RandomNumberGenerator.GetInt32(int.MaxValue))];
    }
}
