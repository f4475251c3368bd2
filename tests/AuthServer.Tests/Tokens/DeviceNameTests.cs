using AuthServer.Tokens;

namespace AuthServer.Tests.Tokens;

/// <summary>
/// The rule for what a device may call itself (<c>device_name</c>), which the approving user reads (RFC 8628 §5.4):
/// any script, no character that hides or reorders what is shown.
/// </summary>
public sealed class DeviceNameTests
{
    [Theory]
    [InlineData("  Living room TV  ", "Living room TV")]
    [InlineData("客厅电视", "客厅电视")]
    [InlineData("📺", "📺")]
    [InlineData("", null)]
    [InlineData("   ", null)]
    [InlineData(null, null)]
    public void A_readable_name_is_kept_trimmed(string? raw, string? kept)
    {
        LinkedDevices.TryReadName(raw, out var name).ShouldBeTrue();
        name.ShouldBe(kept);
    }

    // A fact rather than a theory: test data is serialized at discovery, which would turn a lone surrogate into U+FFFD.
    [Fact]
    public void A_name_with_a_character_that_does_not_show_as_itself_is_refused()
    {
        string[] refused =
        [
            "TV\u202Ex",       // right-to-left override
            "TV\u061Cx",       // Arabic letter mark
            "TV\u00ADx",       // soft hyphen
            "TV\u200Dx",       // zero-width joiner
            "TV\u2029x",       // paragraph separator
            "TV\u0085x",       // next line, a C1 control
            "TV\uD800x",       // a high surrogate alone
            "TV\uDC00x",       // a low surrogate alone
            "TV\uD800",        // a high surrogate at the end
            "TV\U000F0000x",   // supplementary private use
            "TV\U000E0001x",   // language tag, a format character outside the BMP
            "TV\uFFFFx",       // a noncharacter, unassigned
        ];
        foreach (var raw in refused)
            LinkedDevices.TryReadName(raw, out _).ShouldBeFalse(string.Join(' ', raw.Select(c => $"U+{(int)c:X4}")));
    }

    [Fact]
    public void A_name_of_more_than_a_hundred_characters_is_refused()
    {
        LinkedDevices.TryReadName(new string('x', LinkedDevices.MaxNameLength), out _).ShouldBeTrue();
        LinkedDevices.TryReadName(new string('x', LinkedDevices.MaxNameLength + 1), out _).ShouldBeFalse();
    }
}
