--- lookup('items', ...) (with_items): the terms, lists among them
-- flattened one level (Ansible's LookupBase._flatten).
local lookup = require "luasible.lookup"
return { run = function(terms) return lookup.flatten(terms) end }
