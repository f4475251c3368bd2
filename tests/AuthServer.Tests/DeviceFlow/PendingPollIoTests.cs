using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.DeviceFlow;

/// <summary>
/// A waiting screen polls every few seconds for minutes (RFC 8628 §3.5), and thousands wait at once: a pending poll
/// is answered from memory. This counts every statement the server sends to its database file while a screen polls
/// (<see cref="StatementCounter"/>).
/// </summary>
public sealed class PendingPollIoTests : IDisposable
{
    private readonly AuthServerFactory _factory = new();

    [Fact]
    public async Task A_pending_poll_sends_no_statement_to_the_database()
    {
        var device = _factory.CreateClient();
        var started = await device.StartAsync();
        using var statements = new StatementCounter(_factory);

        for (var poll = 0; poll < 5; poll++)
        {
            _factory.Clock.Advance(TimeSpan.FromSeconds(5));
            (await device.PollAsync(started.Get("device_code"))).Error.ShouldBe("authorization_pending");
        }
        statements.Count.ShouldBe(0);

        // The counter sees the database work of the approval and of the poll that then redeems the code.
        await _factory.DecideAsDemoUserAsync(started.Get("user_code"), approve: true);
        var approval = statements.Count;
        approval.ShouldBeGreaterThan(0);
        _factory.Clock.Advance(TimeSpan.FromSeconds(5));
        (await device.PollAsync(started.Get("device_code"))).Status.ShouldBe(System.Net.HttpStatusCode.OK);
        statements.Count.ShouldBeGreaterThan(approval);
    }

    public void Dispose() => _factory.Dispose();
}
