using AuthServer.Tests.Infrastructure;
using AuthServer.DeviceFlow;

namespace AuthServer.Tests.DeviceFlow;

public sealed class UserCodeTests
{
    [Fact]
    public async Task The_servers_codes_use_only_the_base_20_alphabet_as_XXXX_XXXX()
    {
        using var factory = new Infrastructure.AuthServerFactory();
        var http = factory.CreateClient();
        var codes = new List<string>();
        for (var i = 0; i < 40; i++) codes.Add((await http.StartAsync()).Get("user_code"));

        // OpenIddict draws them with the charset, length and display format OpenIddictSetup gives it.
        codes.ShouldAllBe(c => c.Length == 9 && c[4] == '-' && c.Remove(4, 1).All(ch => UserCode.Alphabet.Contains(ch)));
        // 320 letters: every letter of the alphabet shows up, so the draw is not stuck on a subset.
        codes.SelectMany(c => c.Remove(4, 1)).Distinct().Count().ShouldBe(20);
        codes.Distinct().Count().ShouldBe(codes.Count);
    }

    [Theory]
    [InlineData("WDJB-MJHT", "WDJBMJHT")]
    [InlineData("wdjb-mjht", "WDJBMJHT")]
    [InlineData(" wdjb mjht ", "WDJBMJHT")]
    [InlineData("WDJBMJHT", "WDJBMJHT")]
    [InlineData("W-D-J-B-M-J-H-T", "WDJBMJHT")]
    public void Case_dashes_and_spaces_do_not_matter(string typed, string expected)
    {
        UserCode.TryNormalize(typed, out var normalized).ShouldBeTrue();
        normalized.ShouldBe(expected);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("WDJB-MJH")]      // too short
    [InlineData("WDJB-MJHTX")]    // too long
    [InlineData("WDJB-MJHA")]     // a vowel is not in the alphabet
    [InlineData("WDJB-MJH0")]     // nor a digit
    [InlineData("WDJB_MJHT")]     // unknown separator
    public void Anything_else_is_not_a_user_code(string? typed)
    {
        UserCode.TryNormalize(typed, out _).ShouldBeFalse();
    }

    [Fact]
    public void The_display_form_has_a_dash_in_the_middle()
    {
        UserCode.Format("WDJBMJHT").ShouldBe("WDJB-MJHT");
    }
}
