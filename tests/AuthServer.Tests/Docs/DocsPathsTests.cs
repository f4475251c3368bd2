using System.Text.RegularExpressions;

namespace AuthServer.Tests.Docs;

/// <summary>
/// The documentation names files of this repository (in backticks, from the repository root); a rename or a deletion
/// must not leave a doc pointing at nothing. Every such path in <c>docs/*.md</c> and <c>README.md</c> must exist.
/// </summary>
public sealed partial class DocsPathsTests
{
    /// <summary>The same pattern the shell check uses: a backticked path under one of the repository's top folders.</summary>
    [GeneratedRegex(@"`((?:src|tests|samples|bench)/[A-Za-z0-9_./-]+)`")]
    private static partial Regex RepositoryPath();

    private static readonly string Root = FindRepositoryRoot();

    /// <summary>The folder holding AuthServer.sln, found by walking up from the test binaries.</summary>
    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AuthServer.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds AuthServer.sln.");
    }

    private static IEnumerable<string> Documents() =>
        Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Append(Path.Combine(Root, "README.md")).Order(StringComparer.Ordinal);

    /// <summary>The repository paths a text names, each once, in order of appearance.</summary>
    private static List<string> PathsIn(string text) =>
        RepositoryPath().Matches(text).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The paths among <paramref name="paths"/> that name neither a file nor a folder under <paramref name="root"/>.</summary>
    private static List<string> Missing(string root, IEnumerable<string> paths) =>
        paths.Where(p => !File.Exists(Path.Combine(root, p)) && !Directory.Exists(Path.Combine(root, p))).ToList();

    [Fact]
    public void Every_path_the_docs_name_exists_in_the_repository()
    {
        var named = Documents()
            .SelectMany(document => PathsIn(File.ReadAllText(document)).Select(path => (Document: Path.GetRelativePath(Root, document), Path: path)))
            .ToList();

        var missing = named.Where(n => Missing(Root, [n.Path]).Count > 0).Select(n => $"{n.Document}: {n.Path}").ToList();

        // A handful at least: a pattern that matched nothing would pass without checking anything.
        named.Select(n => n.Path).Distinct().Count().ShouldBeGreaterThanOrEqualTo(10);
        named.Select(n => n.Document).ShouldContain("README.md");
        missing.ShouldBeEmpty();
    }

    [Fact]
    public void A_path_that_does_not_exist_is_reported_and_prose_around_it_is_not_mistaken_for_one()
    {
        const string text = "See `src/AuthServer/Program.cs` and `src/AuthServer/NoSuchFile.cs`, the folder `tests/AuthServer.Tests/`, "
            + "but not src/Unquoted.cs, `Protocol/Relative.cs` or `src/With space.cs`.";

        var paths = PathsIn(text);

        paths.ShouldBe(["src/AuthServer/Program.cs", "src/AuthServer/NoSuchFile.cs", "tests/AuthServer.Tests/"]);
        Missing(Root, paths).ShouldBe(["src/AuthServer/NoSuchFile.cs"]);
    }
}
