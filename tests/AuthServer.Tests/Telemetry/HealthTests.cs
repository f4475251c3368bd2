using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Telemetry;

public sealed class HealthTests
{
    [Fact]
    public async Task Live_and_ready_answer_ok_when_the_database_answers()
    {
        using var factory = new AuthServerFactory();
        var http = factory.CreateClient();

        var live = await http.GetAsync("/health/live");
        live.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await live.Content.ReadAsStringAsync()).ShouldBe("ok");

        var ready = await http.GetAsync("/health/ready");
        ready.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ready.Content.ReadAsStringAsync()).ShouldBe("ok");
        ready.Headers.CacheControl!.NoStore.ShouldBeTrue();
    }
}
