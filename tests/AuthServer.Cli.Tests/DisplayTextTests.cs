using AuthServer.Cli.Terminal;

namespace AuthServer.Cli.Tests;

/// <summary>What another party named (a waiting screen, its user agent) is printed so it cannot rewrite the terminal or reorder itself.</summary>
public sealed class DisplayTextTests
{
    [Theory]
    [InlineData("Living room TV", "Living room TV")]
    [InlineData("客厅电视 📺", "客厅电视 📺")]
    [InlineData("TV \u202Egnp.exe", "TV <U+202E>gnp.exe")]
    [InlineData("TV\u001B[2J", "TV<U+001B>[2J")]
    [InlineData("a\u200Bb", "a<U+200B>b")]
    [InlineData(null, "")]
    public void Characters_that_do_not_show_as_themselves_are_shown_as_code_points(string? text, string shown) =>
        DisplayText.Safe(text).ShouldBe(shown);
}
