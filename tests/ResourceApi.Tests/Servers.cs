using System.Net;
using System.Text.Json;
using AuthServer.Data;
using AuthServer.Data.Entities;
using AuthServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ResourceApi.Tests.Infrastructure;

namespace ResourceApi.Tests;

/// <summary>An AuthServer and a resource API that trusts it, both in memory, shared by the tests of one class.</summary>
public sealed class Servers : IDisposable
{
    public AuthServerFactory AuthServer { get; }
    public ResourceApiFactory Api { get; }

    public Servers() : this(new AuthServerFactory()) { }

    internal Servers(AuthServerFactory authServer, Dictionary<string, string?>? apiSettings = null)
    {
        AuthServer = authServer;
        Api = new ResourceApiFactory(authServer, apiSettings);
    }

    public HttpClient ApiClient() => Api.CreateClient();

    /// <summary>The demo user's id, as the authorization server knows it.</summary>
    public async Task<string> DemoUserIdAsync()
    {
        using var scope = AuthServer.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        return (await users.FindByEmailAsync(AuthServerFactory.DemoEmail))!.Id;
    }

    /// <summary>Whether the authorization server has a live linked device with this id for this user.</summary>
    public async Task<bool> HasLinkedDeviceAsync(string userId, string deviceId)
    {
        using var scope = AuthServer.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        return await db.Authorizations.AnyAsync(a => a.Id == deviceId && a.Subject == userId && a.Status == "valid");
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public void Dispose()
    {
        Api.Dispose();
        AuthServer.Dispose();
    }
}
