using System.Xml.Linq;
using AuthServer.Data.Entities;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace AuthServer.Data;

/// <summary>
/// Stores the Data Protection key ring in our own database, so every node shares it and a restart keeps it
/// (the EF Core package for this is not available here).
/// </summary>
public sealed class DatabaseXmlRepository(IServiceScopeFactory scopes) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        return db.DataProtectionKeys.AsEnumerable().Select(k => XElement.Parse(k.Xml)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthServerDbContext>();
        db.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        db.SaveChanges();
    }
}
