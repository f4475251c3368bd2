using AuthServer.DeviceFlow;

namespace AuthServer.Tests.DeviceFlow;

public sealed class UserCodeTests
{
    [Fact]
    public void Generated_codes_use_only_the_base_20_alphabet_and_eight_characters()
    {
        var codes = Enumerable.Range(0, 2000).Select(_ => UserCode.Generate()).ToList();

        codes.ShouldAllBe(c => c.Length == 8 && c.All(ch => UserCode.Alphabet.Contains(ch)));
        // Every letter of the alphabet shows up: the generator is not stuck on a subset.
        codes.SelectMany(c => c).Distinct().Count().ShouldBe(20);
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
