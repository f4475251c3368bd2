using AuthServer.DeviceFlow;
using static AuthServer.DeviceFlow.DeviceAuthorizationStatus;

namespace AuthServer.Tests.DeviceFlow;

public sealed class DeviceAuthorizationTransitionsTests
{
    [Fact]
    public void Only_the_documented_transitions_are_allowed()
    {
        var allowed = Enum.GetValues<DeviceAuthorizationStatus>()
            .SelectMany(from => Enum.GetValues<DeviceAuthorizationStatus>().Select(to => (from, to)))
            .Where(t => DeviceAuthorizationTransitions.IsAllowed(t.from, t.to))
            .ToList();

        allowed.ShouldBe(new[]
        {
            (Pending, Scanned), (Scanned, Approved), (Pending, Denied), (Scanned, Denied),
            (Pending, Superseded), (Scanned, Superseded), (Approved, Redeemed),
        }, ignoreOrder: true);
    }

    [Fact]
    public void Finished_states_are_terminal()
    {
        foreach (var terminal in new[] { Denied, Redeemed, Superseded })
            Enum.GetValues<DeviceAuthorizationStatus>().ShouldAllBe(to => !DeviceAuthorizationTransitions.IsAllowed(terminal, to));
    }

    [Fact]
    public void Expiry_is_derived_from_the_clock_for_unfinished_requests_only()
    {
        var expiresAt = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

        DeviceAuthorizationTransitions.IsExpired(Pending, expiresAt, expiresAt.AddTicks(-1)).ShouldBeFalse();
        DeviceAuthorizationTransitions.IsExpired(Pending, expiresAt, expiresAt).ShouldBeTrue();
        DeviceAuthorizationTransitions.IsExpired(Scanned, expiresAt, expiresAt).ShouldBeTrue();
        DeviceAuthorizationTransitions.IsExpired(Approved, expiresAt, expiresAt).ShouldBeTrue();
        DeviceAuthorizationTransitions.IsExpired(Redeemed, expiresAt, expiresAt.AddDays(1)).ShouldBeFalse();
        DeviceAuthorizationTransitions.IsExpired(Denied, expiresAt, expiresAt.AddDays(1)).ShouldBeFalse();
    }
}
